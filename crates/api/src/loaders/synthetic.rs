//! `fabriques seed --synthetic --fabriques N --seed S`: a deterministic, realistic dataset at
//! scale, drawn from the official geography, for benchmarks and the data team's tests.
//!
//! Policy: the same seed gives the same data, ids included (UUIDv7 built from a fixed clock
//! and the seeded generator), on either engine. Every Fabrique says `source: synthetic`, so
//! nothing can pass for the public record. Rows are written in bulk, in one transaction, without
//! journal events (a load, not a history).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::roadmap::{ActionStatus, RoadmapKind, RoadmapStatus};
use domain::seminar::{SeminarKind, SeminarMode, SeminarStatus};
use domain::{
    FabriqueStatus, FundingKind, LessonKind, OrganizationKind, ParticipationStatus, PartnerRole,
    TerritoryKind,
};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, QueryOrder};
use uuid::Uuid;

const THEMES: &[&str] = &[
    "Industrie",
    "Transition écologique",
    "Vieillissement",
    "Mobilités",
    "Littoral et érosion",
    "Alimentation",
    "Eau",
    "Numérique",
    "Revitalisation des centres",
    "Santé",
    "Jeunesse",
    "Tourisme",
];

const ORGS: &[(&str, Option<&str>, OrganizationKind)] = &[
    (
        "Agence nationale de la cohésion des territoires",
        Some("ANCT"),
        OrganizationKind::Anct,
    ),
    (
        "Association des maires de France",
        Some("AMF"),
        OrganizationKind::ElectedOfficialsAssociation,
    ),
    (
        "Intercommunalités de France",
        Some("AdCF"),
        OrganizationKind::ElectedOfficialsAssociation,
    ),
    ("Cerema", None, OrganizationKind::PublicOperator),
    (
        "Banque des Territoires",
        Some("CDC"),
        OrganizationKind::Funder,
    ),
    (
        "Villes de France",
        None,
        OrganizationKind::ElectedOfficialsAssociation,
    ),
    (
        "Bureau d'études A (synthétique)",
        None,
        OrganizationKind::Contractor,
    ),
    (
        "Bureau d'études B (synthétique)",
        None,
        OrganizationKind::Contractor,
    ),
    (
        "Bureau d'études C (synthétique)",
        None,
        OrganizationKind::Contractor,
    ),
];

/// What was written.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub fabriques: usize,
    pub territories: usize,
    pub participations: usize,
    pub seminars: usize,
    pub roadmaps: usize,
    pub roadmap_actions: usize,
    pub lessons: usize,
    pub funding_lines: usize,
}

struct Gen {
    rng: StdRng,
    clock_ms: u64,
}

impl Gen {
    /// A UUIDv7 from a clock that ticks once per id: deterministic, and in creation order.
    fn id(&mut self) -> Uuid {
        self.clock_ms += 1;
        let mut rand = [0u8; 10];
        self.rng.fill_bytes(&mut rand);
        uuid::Builder::from_unix_timestamp_millis(self.clock_ms, &rand).into_uuid()
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.rng.random_range(0..xs.len())]
    }
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(10, 0, 0).unwrap_or_default())
}

async fn insert_chunks<A>(txn: &impl sea_orm::ConnectionTrait, rows: Vec<A>) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        return insert_json(txn, rows).await;
    }
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(400).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// PostgreSQL: 5,000 rows at a time through `crate::db::insert_json` (one JSON parameter),
/// as the reference geography is loaded. A multi-row `VALUES` list carries one bind parameter
/// per cell, which PostgreSQL parses, binds and plans slowly: the 10,000-Fabrique dataset took
/// 60 s that way.
async fn insert_json<A>(txn: &impl sea_orm::ConnectionTrait, rows: Vec<A>) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::{ActiveValue, IdenStatic, Iterable};
    let Some(first) = rows.first() else {
        return Ok(());
    };
    // The columns the rows set (every row sets the same ones): the others keep their default.
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| first.get(*c).is_set() || first.get(*c).is_unchanged())
        .collect();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let table = sea_orm::EntityName::table_name(&<A::Entity as Default>::default());
    for chunk in rows.chunks(5000) {
        let mut objects = Vec::with_capacity(chunk.len());
        for row in chunk {
            let mut object = serde_json::Map::with_capacity(columns.len());
            for c in &columns {
                let value = match row.get(*c) {
                    ActiveValue::Set(v) | ActiveValue::Unchanged(v) => json_of(v)?,
                    ActiveValue::NotSet => {
                        anyhow::bail!("{table}.{} is set on some rows only", c.as_str())
                    }
                };
                object.insert(c.as_str().to_owned(), value);
            }
            objects.push(serde_json::Value::Object(object));
        }
        crate::db::insert_json(txn, table, &names, &objects).await?;
    }
    Ok(())
}

/// A cell as JSON, in the text form PostgreSQL reads back into the column's type.
fn json_of(v: sea_orm::Value) -> anyhow::Result<serde_json::Value> {
    use sea_orm::Value as V;
    use serde_json::json;
    Ok(match v {
        V::Bool(b) => json!(b),
        V::SmallInt(i) => json!(i),
        V::Int(i) => json!(i),
        V::BigInt(i) => json!(i),
        V::Float(x) => json!(x),
        V::Double(x) => json!(x),
        V::String(s) => json!(s),
        V::Uuid(u) => json!(u.map(|u| u.to_string())),
        V::ChronoDate(d) => json!(d.map(|d| d.to_string())),
        V::ChronoDateTimeUtc(t) => json!(t.map(|t| t.to_rfc3339())),
        V::Json(j) => j.map_or(serde_json::Value::Null, |j| *j),
        other => anyhow::bail!("no JSON form for {other:?}"),
    })
}

/// Writes `n` Fabriques into an empty database.
pub async fn seed(db: &DatabaseConnection, n: usize, seed: u64) -> anyhow::Result<Counts> {
    use entity::*;
    if fabrique::Entity::find().one(db).await?.is_some() {
        anyhow::bail!(
            "the database already holds Fabriques: the synthetic dataset needs an empty one"
        );
    }
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        clock_ms: 1_600_000_000_000,
    };
    // Ordered: the same picks on every engine.
    let communes = ref_commune::Entity::find()
        .order_by_asc(ref_commune::Column::Code)
        .all(db)
        .await?;
    let epci = ref_epci::Entity::find()
        .order_by_asc(ref_epci::Column::Siren)
        .all(db)
        .await?;
    anyhow::ensure!(
        !communes.is_empty(),
        "the reference geography is not loaded"
    );
    let now = at(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default());
    let source = format!("synthetic (fabriques seed --synthetic --seed {seed}): not real data");
    let mut counts = Counts::default();

    let mut orgs = Vec::new();
    let mut org_ids = Vec::new();
    for (name, acronym, kind) in ORGS {
        let id = g.id();
        org_ids.push(id);
        orgs.push(organization::ActiveModel {
            id: Set(id),
            name: Set((*name).into()),
            acronym: Set(acronym.map(Into::into)),
            kind: Set(kind.as_str().into()),
            website: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    let programmes: Vec<Uuid> = migration::PROGRAMMES
        .iter()
        .filter_map(|(id, _)| id.parse().ok())
        .collect();

    let mut territories: HashMap<String, Uuid> = HashMap::new();
    let (mut t_rows, mut f_rows, mut fp_rows, mut p_rows, mut s_rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut r_rows, mut a_rows, mut l_rows, mut fl_rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The launched Fabriques, in creation order: their co-funder partner rows come last.
    let mut launched_ids = Vec::new();

    for i in 0..n {
        let fid = g.id();
        let year = 2018 + (i % 9) as i32;
        let start =
            NaiveDate::from_ymd_opt(year, 1 + g.rng.random_range(0..12), 1).unwrap_or_default();
        let status = match g.rng.random_range(0..100) {
            0..55 => FabriqueStatus::Completed,
            55..70 => FabriqueStatus::Running,
            70..80 => FabriqueStatus::Recruiting,
            80..90 => FabriqueStatus::Draft,
            _ => FabriqueStatus::Cancelled,
        };
        let theme = *g.pick(THEMES);
        let launched = matches!(status, FabriqueStatus::Running | FabriqueStatus::Completed);
        let cancelled = status == FabriqueStatus::Cancelled;
        if launched {
            launched_ids.push(fid);
        }
        let title = format!("{theme} : Fabrique synthétique n° {}", i + 1);
        f_rows.push(fabrique::ActiveModel {
            id: Set(fid),
            search: Set(domain::text::searchable([
                Some(title.as_str()),
                Some(theme),
            ])),
            title: Set(title),
            theme: Set(Some(theme.into())),
            description: Set(String::new()),
            programme_id: Set((g.rng.random_range(0..10) < 6).then(|| *g.pick(&programmes))),
            min_territories: Set(4),
            max_territories: Set(8),
            planned_start: Set(Some(start)),
            actual_start: Set(launched.then_some(start)),
            end_date: Set(launched.then(|| start + Duration::days(365))),
            status: Set(status.as_str().into()),
            status_reason: Set(cancelled.then(|| "synthetic".into())),
            status_changed_at: Set(at(start)),
            source: Set(Some(source.clone())),
            version: Set(1),
            created_at: Set(at(start) - Duration::days(90)),
            updated_at: Set(at(start)),
        });
        counts.fabriques += 1;
        let co_animator = org_ids[1 + g.rng.random_range(0..5)];
        let contractor = org_ids[6 + g.rng.random_range(0..3)];
        for (org, role) in [
            (org_ids[0], PartnerRole::Pilot),
            (co_animator, PartnerRole::CoAnimator),
            (contractor, PartnerRole::Contractor),
        ] {
            fp_rows.push(fabrique_partner::ActiveModel {
                fabrique_id: Set(fid),
                organization_id: Set(org),
                role: Set(role.as_str().into()),
                created_at: Set(now),
            });
        }
        if status == FabriqueStatus::Draft {
            continue;
        }
        // 4 to 8 territories, communes and EPCI of the official geography.
        let k = g.rng.random_range(4..=8);
        let mut chosen: Vec<Uuid> = Vec::new();
        while chosen.len() < k {
            let (code, row) = if g.rng.random_range(0..10) < 7 {
                let c = g.pick(&communes);
                (
                    c.code.clone(),
                    (
                        TerritoryKind::Commune,
                        c.name.clone(),
                        Some(c.department.clone()),
                        Some(c.region.clone()),
                        c.population,
                        // The domain names a code scheme only for a parsed code
                        // (`domain::territory::scheme`); the reference's codes are not parsed here.
                        "insee",
                    ),
                )
            } else {
                let e = g.pick(&epci);
                // The reference's legal form (CC, CA, CU, METRO, MET69): a métropole otherwise.
                let kind = store::reference::EpciKind::parse(&e.kind)
                    .map_or(TerritoryKind::Metropole, |k| k.territory_kind());
                let single = |s: &str| (!s.contains(' ')).then(|| s.to_owned());
                (
                    e.siren.clone(),
                    (
                        kind,
                        e.name.clone(),
                        single(&e.departments),
                        single(&e.regions),
                        e.population,
                        "siren",
                    ),
                )
            };
            let tid = match territories.get(&code) {
                Some(id) => *id,
                None => {
                    let id = g.id();
                    territories.insert(code.clone(), id);
                    let (kind, name, department, region, population, scheme) = row;
                    t_rows.push(territory::ActiveModel {
                        id: Set(id),
                        name: Set(name),
                        kind: Set(kind.as_str().into()),
                        code_scheme: Set(Some(scheme.into())),
                        code: Set(Some(code)),
                        department: Set(department),
                        region: Set(region),
                        population: Set(population),
                        latitude: Set(Some(42.0 + g.rng.random::<f64>() * 9.0)),
                        longitude: Set(Some(-4.5 + g.rng.random::<f64>() * 12.5)),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                    });
                    counts.territories += 1;
                    id
                }
            };
            if !chosen.contains(&tid) {
                chosen.push(tid);
            }
        }
        // Intersite seminars.
        let intersite = match status {
            FabriqueStatus::Completed => 4,
            FabriqueStatus::Running => g.rng.random_range(1..=3),
            _ => 0,
        };
        for number in 1..=intersite {
            s_rows.push(seminar(
                &mut g,
                fid,
                None,
                SeminarKind::Intersite,
                number,
                start,
                SeminarStatus::Held,
                now,
            ));
        }
        if cancelled {
            s_rows.push(seminar(
                &mut g,
                fid,
                None,
                SeminarKind::Intersite,
                1,
                start,
                SeminarStatus::Cancelled,
                now,
            ));
        }
        counts.seminars += intersite as usize + usize::from(cancelled);
        for (j, tid) in chosen.iter().enumerate() {
            let pid = g.id();
            let withdrawn = cancelled || (status == FabriqueStatus::Completed && j == 4);
            let p_status = match status {
                _ if withdrawn => ParticipationStatus::Withdrawn,
                FabriqueStatus::Completed => ParticipationStatus::Completed,
                FabriqueStatus::Running => ParticipationStatus::Active,
                _ => *g.pick(&[ParticipationStatus::Applied, ParticipationStatus::Accepted]),
            };
            p_rows.push(participation::ActiveModel {
                id: Set(pid),
                fabrique_id: Set(fid),
                territory_id: Set(*tid),
                status: Set(p_status.as_str().into()),
                sponsor_name: Set(Some(format!("Élu·e synthétique {}", j + 1))),
                sponsor_mandate: Set(Some("maire".into())),
                motivation: Set(Some("Motivation synthétique".into())),
                focus: Set(None),
                status_reason: Set(None),
                applied_at: Set(at(start) - Duration::days(60)),
                accepted_at: Set((p_status != ParticipationStatus::Applied)
                    .then(|| at(start) - Duration::days(30))),
                rejected_at: Set(None),
                activated_at: Set(launched.then(|| at(start))),
                completed_at: Set((p_status == ParticipationStatus::Completed)
                    .then(|| at(start) + Duration::days(360))),
                withdrawn_at: Set(withdrawn.then(|| at(start) + Duration::days(90))),
                version: Set(1),
                created_at: Set(at(start) - Duration::days(60)),
                updated_at: Set(at(start)),
            });
            counts.participations += 1;
            let local = match p_status {
                ParticipationStatus::Completed => 4,
                ParticipationStatus::Active => g.rng.random_range(1..=3),
                _ => 0,
            };
            for number in 1..=local {
                s_rows.push(seminar(
                    &mut g,
                    fid,
                    Some(pid),
                    SeminarKind::Local,
                    number,
                    start,
                    SeminarStatus::Held,
                    now,
                ));
            }
            counts.seminars += local as usize;
            if matches!(
                p_status,
                ParticipationStatus::Completed | ParticipationStatus::Active
            ) {
                let rid = g.id();
                let adopted = p_status == ParticipationStatus::Completed;
                r_rows.push(roadmap::ActiveModel {
                    id: Set(rid),
                    participation_id: Set(pid),
                    kind: Set(RoadmapKind::Roadmap.as_str().into()),
                    title: Set("Feuille de route (synthétique)".into()),
                    summary: Set(String::new()),
                    status: Set(if adopted {
                        RoadmapStatus::Adopted
                    } else {
                        RoadmapStatus::Draft
                    }
                    .as_str()
                    .into()),
                    submitted_at: Set(adopted.then(|| at(start) + Duration::days(330))),
                    adopted_on: Set(adopted.then(|| start + Duration::days(350))),
                    adoption_reference: Set(adopted.then(|| format!("Délibération S-{}", i + 1))),
                    version: Set(1),
                    created_at: Set(at(start) + Duration::days(200)),
                    updated_at: Set(at(start) + Duration::days(350)),
                });
                counts.roadmaps += 1;
                for position in 1..=g.rng.random_range(1..=4) {
                    a_rows.push(roadmap_action::ActiveModel {
                        id: Set(g.id()),
                        roadmap_id: Set(rid),
                        position: Set(position),
                        title: Set(format!("Action {position}")),
                        description: Set(String::new()),
                        lead: Set(None),
                        horizon: Set(Some("2030".into())),
                        due_on: Set(None),
                        estimated_cost_cents: Set(Some(g.rng.random_range(1_000_000..500_000_000))),
                        status: Set(ActionStatus::Planned.as_str().into()),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                    });
                    counts.roadmap_actions += 1;
                }
            }
        }
        if status == FabriqueStatus::Completed {
            for (kind, title) in [
                (LessonKind::Lesson, "Enseignement"),
                (LessonKind::ProgrammeProposal, "Proposition"),
            ] {
                let title = format!("{title} (synthétique)");
                l_rows.push(lesson::ActiveModel {
                    id: Set(g.id()),
                    fabrique_id: Set(fid),
                    search: Set(domain::text::searchable([Some(title.as_str())])),
                    title: Set(title),
                    body: Set(String::new()),
                    kind: Set(kind.as_str().into()),
                    target_programme_id: Set(None),
                    target_body: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                counts.lessons += 1;
            }
        }
        if launched {
            for (org, kind, cents) in [
                (
                    org_ids[0],
                    FundingKind::Anct,
                    g.rng.random_range(5_000_000..15_000_000i64),
                ),
                (
                    org_ids[4],
                    FundingKind::CoFunding,
                    g.rng.random_range(1_000_000..8_000_000i64),
                ),
            ] {
                fl_rows.push(funding_line::ActiveModel {
                    id: Set(g.id()),
                    fabrique_id: Set(fid),
                    organization_id: Set(org),
                    kind: Set(kind.as_str().into()),
                    amount_cents: Set(cents),
                    label: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                counts.funding_lines += 1;
            }
        }
    }
    // The co-funder must be a co-funder partner of the Fabriques it funds.
    for fid in launched_ids {
        fp_rows.push(fabrique_partner::ActiveModel {
            fabrique_id: Set(fid),
            organization_id: Set(org_ids[4]),
            role: Set(PartnerRole::CoFunder.as_str().into()),
            created_at: Set(now),
        });
    }
    let fp_rows: Vec<_> = {
        let mut seen = std::collections::HashSet::new();
        fp_rows
            .into_iter()
            .filter(|r| {
                seen.insert((
                    *r.fabrique_id.as_ref(),
                    *r.organization_id.as_ref(),
                    r.role.as_ref().clone(),
                ))
            })
            .collect()
    };
    let txn = store::begin_write(db).await?;
    insert_chunks(&txn, orgs).await?;
    insert_chunks(&txn, t_rows).await?;
    insert_chunks(&txn, f_rows).await?;
    insert_chunks(&txn, fp_rows).await?;
    insert_chunks(&txn, p_rows).await?;
    insert_chunks(&txn, s_rows).await?;
    insert_chunks(&txn, r_rows).await?;
    insert_chunks(&txn, a_rows).await?;
    insert_chunks(&txn, l_rows).await?;
    insert_chunks(&txn, fl_rows).await?;
    store::figures::fill_missing(&txn).await?;
    txn.commit().await?;
    crate::db::analyze(db, &[]).await?;
    Ok(counts)
}

#[allow(clippy::too_many_arguments)]
fn seminar(
    g: &mut Gen,
    fabrique: Uuid,
    participation: Option<Uuid>,
    kind: SeminarKind,
    number: i32,
    start: NaiveDate,
    status: SeminarStatus,
    now: DateTime<Utc>,
) -> entity::seminar::ActiveModel {
    let on = start + Duration::days(i64::from(number) * 75);
    entity::seminar::ActiveModel {
        id: Set(g.id()),
        fabrique_id: Set(fabrique),
        participation_id: Set(participation),
        kind: Set(kind.as_str().into()),
        number: Set(number),
        scheduled_on: Set(on),
        place: Set(None),
        mode: Set(SeminarMode::InPerson.as_str().into()),
        status: Set(status.as_str().into()),
        attendance: Set((status == SeminarStatus::Held).then(|| g.rng.random_range(8..60))),
        summary: Set(None),
        status_reason: Set((status == SeminarStatus::Cancelled).then(|| "synthetic".into())),
        held_at: Set((status == SeminarStatus::Held).then(|| at(on))),
        cancelled_at: Set((status == SeminarStatus::Cancelled).then(|| at(on))),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
