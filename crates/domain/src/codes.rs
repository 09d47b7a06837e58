//! Official codes of French territories (COG). A value of these types is always valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a code was refused. The `code()` strings are part of the API contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "an INSEE commune code has 5 characters: 2 digits of department (2A/2B for Corsica, 97x overseas) and 3 digits"
    )]
    InvalidInsee,
    #[error("a SIREN has exactly 9 digits")]
    SirenFormat,
    #[error("the SIREN checksum (Luhn) is wrong")]
    SirenChecksum,
    #[error("a department code is 01-95 (no 20), 2A, 2B or 971-976")]
    InvalidDepartment,
    #[error("unknown INSEE region code")]
    InvalidRegion,
    #[error("this kind of territory has no official code in this API")]
    NoCodeForKind,
    #[error(
        "this code is both a department's and a region's: give the kind (departement or region)"
    )]
    KindAmbiguous,
    #[error(
        "not an official code: an INSEE commune code (5 characters), a SIREN (9 digits), a department code or a region code"
    )]
    Unrecognised,
}

impl CodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::InvalidInsee => "invalid_insee_code",
            CodeError::SirenFormat => "invalid_siren_format",
            CodeError::SirenChecksum => "invalid_siren_checksum",
            CodeError::InvalidDepartment => "invalid_department_code",
            CodeError::InvalidRegion => "invalid_region_code",
            CodeError::NoCodeForKind => "code_not_allowed_for_kind",
            CodeError::KindAmbiguous => "kind_ambiguous",
            CodeError::Unrecognised => "unrecognised_code",
        }
    }
}

fn is_mainland_department(d: &str) -> bool {
    matches!(d.parse::<u8>(), Ok(n) if (1..=95).contains(&n) && n != 20) && d.len() == 2
}

/// INSEE (COG) code of a commune: `01001`, `2A004` (Corsica), `97361` (Guyane).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InseeCode(String);

impl InseeCode {
    /// What [`InseeCode::parse`] takes, as a regular expression (for the OpenAPI document).
    pub const PATTERN: &'static str = "^((0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})|97[1-8][0-9]{2})$";

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let b = s.as_bytes();
        if b.len() != 5 || !s.is_ascii() {
            return Err(CodeError::InvalidInsee);
        }
        let (dep, rest) = s.split_at(2);
        let rest_digits = rest.bytes().all(|c| c.is_ascii_digit());
        let ok = rest_digits
            && if dep == "2A" || dep == "2B" {
                true
            } else if dep == "97" {
                // 971 Guadeloupe .. 976 Mayotte, 977/978 Saint-Barthélemy / Saint-Martin.
                (b'1'..=b'8').contains(&b[2])
            } else {
                is_mainland_department(dep)
            };
        if ok && &s[2..] != "000" {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError::InvalidInsee)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The department code the commune belongs to (`2A`, `56`, `973`).
    pub fn department(&self) -> &str {
        if self.0.starts_with("97") {
            &self.0[..3]
        } else {
            &self.0[..2]
        }
    }
}

/// SIREN: 9 digits whose Luhn checksum is valid (the identifier of an EPCI or a PETR).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siren(String);

/// The Luhn checksum over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

impl Siren {
    /// The form [`Siren::parse`] takes, as a regular expression; the Luhn checksum it also
    /// checks is beyond a regular expression's reach.
    pub const PATTERN: &'static str = "^[0-9]{9}$";

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s.len() != 9 || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(CodeError::SirenFormat);
        }
        if !luhn_valid(s) {
            return Err(CodeError::SirenChecksum);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Department code: `01`..`95` without `20`, `2A`, `2B`, `971`..`976`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentCode(String);

impl DepartmentCode {
    /// What [`DepartmentCode::parse`] takes, as a regular expression.
    pub const PATTERN: &'static str = "^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-46])$";

    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let ok = s == "2A"
            || s == "2B"
            || is_mainland_department(s)
            || matches!(s, "971" | "972" | "973" | "974" | "976");
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError::InvalidDepartment)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The INSEE code of one of the 18 current regions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionCode(String);

/// Current regions (COG 2026): 5 overseas, 13 in metropolitan France.
pub const REGION_CODES: [&str; 18] = [
    "01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84",
    "93", "94",
];

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if REGION_CODES.contains(&s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError::InvalidRegion)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Kind of territory (collectivité). Which official code each kind takes is decided by
/// [`TerritoryKind::parse_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TerritoryKind {
    Commune,
    CommunauteDeCommunes,
    CommunauteDAgglomeration,
    CommunauteUrbaine,
    Metropole,
    Departement,
    Region,
    Petr,
    Other,
}

impl TerritoryKind {
    pub const ALL: [TerritoryKind; 9] = [
        TerritoryKind::Commune,
        TerritoryKind::CommunauteDeCommunes,
        TerritoryKind::CommunauteDAgglomeration,
        TerritoryKind::CommunauteUrbaine,
        TerritoryKind::Metropole,
        TerritoryKind::Departement,
        TerritoryKind::Region,
        TerritoryKind::Petr,
        TerritoryKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryKind::Commune => "commune",
            TerritoryKind::CommunauteDeCommunes => "communaute_de_communes",
            TerritoryKind::CommunauteDAgglomeration => "communaute_d_agglomeration",
            TerritoryKind::CommunauteUrbaine => "communaute_urbaine",
            TerritoryKind::Metropole => "metropole",
            TerritoryKind::Departement => "departement",
            TerritoryKind::Region => "region",
            TerritoryKind::Petr => "petr",
            TerritoryKind::Other => "other",
        }
    }

    /// EPCI à fiscalité propre and PETR are identified by their SIREN.
    pub fn uses_siren(self) -> bool {
        matches!(
            self,
            TerritoryKind::CommunauteDeCommunes
                | TerritoryKind::CommunauteDAgglomeration
                | TerritoryKind::CommunauteUrbaine
                | TerritoryKind::Metropole
                | TerritoryKind::Petr
        )
    }

    /// Parses the official code this kind takes: INSEE for a commune, SIREN for an EPCI or a
    /// PETR, the department or region code for those; `other` has none.
    pub fn parse_code(self, code: &str) -> Result<TerritoryCode, CodeError> {
        match self {
            TerritoryKind::Commune => InseeCode::parse(code).map(TerritoryCode::Insee),
            TerritoryKind::Departement => {
                DepartmentCode::parse(code).map(TerritoryCode::Department)
            }
            TerritoryKind::Region => RegionCode::parse(code).map(TerritoryCode::Region),
            TerritoryKind::Other => Err(CodeError::NoCodeForKind),
            _ => Siren::parse(code).map(TerritoryCode::Siren),
        }
    }
}

impl fmt::Display for TerritoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TerritoryKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        TerritoryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// A parsed official code, tagged by what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerritoryCode {
    Insee(InseeCode),
    Siren(Siren),
    Department(DepartmentCode),
    Region(RegionCode),
}

/// A code given without its kind: the code and the kind it determines. An INSEE code is a
/// commune's, a 3-character or Corsican code a department's; a SIREN's kind is `None` (an
/// EPCI's kind is in the reference, a PETR has to be named); a two-digit code is a
/// department's unless it is also a region's, which is ambiguous.
pub fn infer(code: &str) -> Result<(TerritoryCode, Option<TerritoryKind>), CodeError> {
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    match code.len() {
        5 => {
            InseeCode::parse(code).map(|c| (TerritoryCode::Insee(c), Some(TerritoryKind::Commune)))
        }
        9 if digits => Siren::parse(code).map(|c| (TerritoryCode::Siren(c), None)),
        2 if REGION_CODES.contains(&code) => Err(CodeError::KindAmbiguous),
        2 | 3 => DepartmentCode::parse(code)
            .map(|c| {
                (
                    TerritoryCode::Department(c),
                    Some(TerritoryKind::Departement),
                )
            })
            .map_err(|_| CodeError::Unrecognised),
        _ => Err(CodeError::Unrecognised),
    }
}

impl TerritoryCode {
    pub fn as_str(&self) -> &str {
        match self {
            TerritoryCode::Insee(c) => c.as_str(),
            TerritoryCode::Siren(c) => c.as_str(),
            TerritoryCode::Department(c) => c.as_str(),
            TerritoryCode::Region(c) => c.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn insee_codes_of_mainland_corsica_and_overseas_parse() {
        for ok in [
            "01001", "56121", "2A004", "2B033", "97361", "97101", "95500",
        ] {
            assert!(InseeCode::parse(ok).is_ok(), "{ok} should parse");
        }
        assert_eq!(
            InseeCode::parse("97361").map(|c| c.department().to_owned()),
            Ok("973".into())
        );
        assert_eq!(
            InseeCode::parse("2A004").map(|c| c.department().to_owned()),
            Ok("2A".into())
        );
    }

    #[test]
    fn a_code_alone_names_its_kind_where_it_can() {
        let kind = |c: &str| infer(c).map(|(_, k)| k);
        assert_eq!(kind("56121"), Ok(Some(TerritoryKind::Commune)));
        assert_eq!(kind("2A004"), Ok(Some(TerritoryKind::Commune)));
        assert_eq!(kind("56"), Ok(Some(TerritoryKind::Departement)));
        assert_eq!(kind("2B"), Ok(Some(TerritoryKind::Departement)));
        assert_eq!(kind("974"), Ok(Some(TerritoryKind::Departement)));
        assert_eq!(
            kind("242900314"),
            Ok(None),
            "an EPCI's kind is the reference's"
        );
        // Every region code is also a department's.
        for r in REGION_CODES {
            assert_eq!(kind(r), Err(CodeError::KindAmbiguous), "{r}");
        }
        assert_eq!(kind("242900315"), Err(CodeError::SirenChecksum));
        assert_eq!(kind("20"), Err(CodeError::Unrecognised));
        assert_eq!(kind("979"), Err(CodeError::Unrecognised));
        assert_eq!(kind("abc"), Err(CodeError::Unrecognised));
        assert_eq!(kind(""), Err(CodeError::Unrecognised));
        assert_eq!(kind("96001"), Err(CodeError::InvalidInsee));
    }

    #[test]
    fn malformed_insee_codes_are_refused() {
        for bad in [
            "", "1234", "123456", "20001", "2C004", "96001", "00001", "97901", "56000", "5612a",
            "é1234",
        ] {
            assert_eq!(InseeCode::parse(bad), Err(CodeError::InvalidInsee), "{bad}");
        }
    }

    #[test]
    fn real_epci_sirens_pass_the_checksum() {
        for ok in [
            "242900314",
            "244400404",
            "200023414",
            "243100518",
            "200067999",
            "200071751",
        ] {
            assert!(Siren::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_siren_with_one_digit_changed_fails_the_checksum() {
        assert_eq!(Siren::parse("242900315"), Err(CodeError::SirenChecksum));
        assert_eq!(Siren::parse("24290031"), Err(CodeError::SirenFormat));
        assert_eq!(Siren::parse("24290031x"), Err(CodeError::SirenFormat));
    }

    #[test]
    fn each_kind_takes_its_own_code() {
        assert!(TerritoryKind::Commune.parse_code("56121").is_ok());
        assert!(TerritoryKind::Commune.parse_code("242900314").is_err());
        assert!(TerritoryKind::Metropole.parse_code("242900314").is_ok());
        assert!(TerritoryKind::Metropole.parse_code("56121").is_err());
        assert!(TerritoryKind::Departement.parse_code("2A").is_ok());
        assert!(TerritoryKind::Departement.parse_code("20").is_err());
        assert!(TerritoryKind::Region.parse_code("84").is_ok());
        assert!(TerritoryKind::Region.parse_code("99").is_err());
        assert_eq!(
            TerritoryKind::Other.parse_code("x"),
            Err(CodeError::NoCodeForKind)
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in TerritoryKind::ALL {
            assert_eq!(k.as_str().parse::<TerritoryKind>(), Ok(k));
        }
    }

    fn luhn_digit(prefix: &str) -> char {
        (0..10u8)
            .map(|d| char::from(b'0' + d))
            .find(|d| luhn_valid(&format!("{prefix}{d}")))
            .unwrap_or('x')
    }

    proptest! {
        #[test]
        fn a_siren_parses_exactly_when_its_checksum_is_valid(digits in "[0-9]{9}") {
            prop_assert_eq!(Siren::parse(&digits).is_ok(), luhn_valid(&digits));
        }

        #[test]
        fn exactly_one_check_digit_completes_any_eight_digits(prefix in "[0-9]{8}") {
            let valid: Vec<u8> = (0..10u8).filter(|d| Siren::parse(&format!("{prefix}{d}")).is_ok()).collect();
            prop_assert_eq!(valid.len(), 1);
            prop_assert_eq!(char::from(b'0' + valid[0]), luhn_digit(&prefix));
        }

        #[test]
        fn changing_one_digit_of_a_valid_siren_breaks_it(prefix in "[0-9]{8}", pos in 0usize..9, delta in 1u8..10) {
            let valid = format!("{prefix}{}", luhn_digit(&prefix));
            let mut bytes = valid.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap_or_default();
            prop_assert_eq!(Siren::parse(&changed), Err(CodeError::SirenChecksum));
        }
    }
}
