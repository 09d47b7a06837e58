pub async fn demo(_db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    Ok(())
}
