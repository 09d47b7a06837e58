//! Testimonies of elected officials (témoignages d'élus): public once published.

use chrono::NaiveDate;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTestimony {
    pub territory_id: Option<Uuid>,
    pub speaker: String,
    pub role: Option<String>,
    pub media_url: Option<String>,
    pub quote: Option<String>,
    pub given_on: Option<NaiveDate>,
    pub published: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestimonyChanges {
    pub territory_id: Option<Option<Uuid>>,
    pub speaker: Option<String>,
    pub role: Option<Option<String>>,
    pub media_url: Option<Option<String>>,
    pub quote: Option<Option<String>>,
    pub given_on: Option<Option<NaiveDate>>,
    pub published: Option<bool>,
}
