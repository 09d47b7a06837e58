//! `/exports/{dataset}.csv`: CSV exports for spreadsheets and data tools, streamed.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use domain::query::Dataset;
use domain::{Grant, Permission};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::edge::context::Public;
use crate::edge::error::{ApiError, ApiResult, Problem};
use crate::edge::exports_gate::ExportsGate;
use crate::edge::extract::Query;
use crate::edge::problems::{ListProblems, PublicListProblems};

/// Licence of the public datasets (the open-data catalogue).
pub const LICENCE_URL: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

/// Every dataset and all its columns (personal ones included).
pub fn datasets() -> Vec<(Dataset, Vec<&'static str>)> {
    Dataset::ALL
        .iter()
        .map(|&d| {
            (
                d,
                store::exports::all_columns(d)
                    .iter()
                    .map(|(c, _)| *c)
                    .collect(),
            )
        })
        .collect()
}

/// The column separator.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum Separator {
    /// RFC 4180.
    #[default]
    #[serde(rename = ",")]
    Comma,
    /// French spreadsheets.
    #[serde(rename = ";")]
    Semicolon,
}

crate::selection_params!(ExportParams {
    /// `,` (default, RFC 4180) or `;` (French Excel).
    #[param(example = ";")]
    sep: Option<Separator>,
    /// Start with a UTF-8 byte order mark (Excel needs it to read accents).
    bom: Option<bool>,
});

/// Whether a spreadsheet would read a cell starting with this character as a formula
/// (OWASP's CSV-injection list).
fn starts_a_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A plain decimal number, signed or not (`-1.5`, `+3`, `-250000`): a spreadsheet reads it as
/// a number, never as a formula.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next().unwrap_or_default();
    !(whole.is_empty() && fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A cell as written to the file: one that a spreadsheet would run as a formula gets a
/// leading `'`, so it shows as the text it is (`=HYPERLINK(…)` becomes `'=HYPERLINK(…)`).
/// Plain numbers are left as they are, so a negative amount or coordinate stays a number.
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if starts_a_formula(c) && !is_plain_number(cell) => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn write_rows(separator: u8, rows: &[Vec<String>]) -> Result<Bytes, ApiError> {
    let size: usize = rows
        .iter()
        .map(|r| r.iter().map(|c| c.len() + 3).sum::<usize>() + 2)
        .sum();
    let mut w = csv::WriterBuilder::new()
        .delimiter(separator)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(size));
    let failed = |e: csv::Error| ApiError::Internal(e.into());
    for r in rows {
        // Field by field: a cell is copied once, into the output, not first into a String.
        for c in r {
            w.write_field(neutralised(c).as_bytes()).map_err(failed)?;
        }
        w.write_record(None::<&[u8]>).map_err(failed)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(Bytes::from(bytes))
}

/// Who an export counts against: a token's subject, or for the public the peer's address.
/// Counted as the rate limit counts it.
fn caller(r: &Public) -> String {
    let c = r.access().caller();
    crate::edge::ratelimit::caller_key(
        c.and_then(|c| c.client),
        c.map(|c| (c.role.as_str(), c.subject.as_str())),
        r.req.peer_addr(),
    )
}

/// Export a dataset as CSV: `fabriques`, `participations`, `seminars`, `roadmaps`,
/// `roadmap_actions`, `partners` (a row per role), `testimonies`, `territories` (all of them;
/// no filter) or `funding_lines` (`funding:read`). The filters
/// select Fabriques as `GET /fabriques` does; the rows are those the caller may see (for the
/// public, what the public catalogue shows: accompanied participations, the seminars of
/// visible participations, adopted roadmaps and their actions, published testimonies) and a
/// column of a tier the caller
/// does not see is left out. Public datasets are open data under the Licence Ouverte 2.0
/// (`Link: rel="license"`). A text cell that a spreadsheet would read as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return, and not a plain number) is written
/// with a leading `'`. Column definitions: `docs/data-dictionary.md`. At most 2 exports run at once
/// per caller (429 `too_many_exports`) and 4 per instance (503 `exports_busy`), by default;
/// both say when to retry (`Retry-After`).
#[utoipa::path(
    tag = "exports", operation_id = "export_csv",
    params(("dataset" = Dataset, Path, description = "The dataset"), ExportParams),
    responses(
        (status = 200, description = "The CSV, streamed", content_type = "text/csv", body = String, headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"<dataset>.csv\"`"),
            ("Link" = String, description = "`<https://www.etalab.gouv.fr/licence-ouverte-open-licence/>; rel=\"license\"` when the file is open data (a public dataset)")
        )),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests: this caller already runs as many exports as it may at once (`too_many_exports`), or its quota for this minute is spent (`rate_limited`); see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The server runs as many exports as it may at once (`exports_busy`), or the database is unavailable (`database_unavailable`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        ListProblems
    ),
    security((), ("bearer" = []))
)]
#[get("/exports/{dataset}.csv")]
pub async fn export_csv(
    r: Public,
    gate: web::Data<ExportsGate>,
    dataset: web::Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let dataset: Dataset = dataset
        .parse()
        .map_err(|()| ApiError::NotFound("dataset"))?;
    let access = r.access().clone();
    if dataset == Dataset::FundingLines {
        if access.is_public() {
            return Err(ApiError::Unauthorized("a bearer token is required".into()));
        }
        if access.grant(Permission::ReadFunding) == Grant::Never {
            access.require(Permission::ReadFunding)?;
        }
    }
    let separator = match p.sep.unwrap_or_default() {
        Separator::Comma => b',',
        Separator::Semicolon => b';',
    };
    let header: Vec<String> = store::exports::columns(dataset, &access)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut first = Vec::new();
    if p.bom.unwrap_or(false) {
        first.extend_from_slice("\u{feff}".as_bytes());
    }
    first.extend_from_slice(&write_rows(separator, &[header])?);
    let filter = p.filter()?;
    // Held until the last row is written or the client goes away.
    let permit = gate.admit(caller(&r))?;
    let rows = store::exports::rows(r.db().clone(), &access, dataset, &filter).map(move |batch| {
        let _held = &permit;
        write_rows(separator, &batch.map_err(ApiError::from)?)
    });
    let body = futures_util::stream::once(async move { Ok::<_, ApiError>(Bytes::from(first)) })
        .chain(rows);
    let mut res = HttpResponse::Ok();
    res.content_type("text/csv; charset=utf-8").insert_header((
        "Content-Disposition",
        format!("attachment; filename=\"{}.csv\"", dataset.as_str()),
    ));
    if store::exports::is_open_data(dataset, &access) {
        res.insert_header(("Link", format!("<{LICENCE_URL}>; rel=\"license\"")));
    }
    Ok(res.streaming(body))
}

/// The open data as a Frictionless Data Package: every public CSV export (`fabriques`,
/// `territories`, `participations`, `seminars`, `roadmaps`, `roadmap_actions`, `partners`,
/// `testimonies`) with its Table Schema (types, formats, allowed values, primary and foreign
/// keys), the Licence Ouverte 2.0 and the sources. Resource paths are relative to this
/// document (`fabriques.csv` is `/api/v1/exports/fabriques.csv`); the files are what the
/// public gets, which is what the package describes.
#[utoipa::path(
    tag = "exports", operation_id = "get_datapackage",
    responses(
        (status = 200, description = "The data package (Frictionless Data Package 1.0)", content_type = "application/json", body = Object),
        PublicListProblems
    ),
    security((), ("bearer" = []))
)]
#[get("/exports/datapackage.json")]
pub async fn get_datapackage(_r: Public) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Link", format!("<{LICENCE_URL}>; rel=\"license\"")))
        .json(crate::datapackage::package())
}

#[cfg(test)]
mod tests {
    use super::neutralised;

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_text() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
            ("+33 1 23", "'+33 1 23"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-.", "'-."),
            ("-1.2.3", "'-1.2.3"),
            ("-1e3", "'-1e3"),
        ] {
            assert_eq!(neutralised(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_are_left_alone() {
        for cell in [
            "-1.5",
            "+3",
            "-250000",
            "-.5",
            "12",
            "",
            "Saint-Étienne",
            "a=b",
            " =1",
            "'=1",
        ] {
            assert_eq!(neutralised(cell), cell, "{cell:?}");
        }
    }
}
