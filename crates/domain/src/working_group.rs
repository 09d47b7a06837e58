//! Local working groups (groupes de travail locaux): personal data as a whole.

use crate::vocab::MemberCategory;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMember {
    pub name: String,
    pub organization: Option<String>,
    pub function: Option<String>,
    pub category: MemberCategory,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub name: Option<String>,
    pub organization: Option<Option<String>>,
    pub function: Option<Option<String>>,
    pub category: Option<MemberCategory>,
}
