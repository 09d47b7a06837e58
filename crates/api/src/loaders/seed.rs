//! `fabriques seed --demo`: the real Fabriques of the public record
//! (`docs/public-record.md`), imported as historical records.
//!
//! Honesty rules: only verified facts become data. Each Fabrique's `source` says where its
//! facts come from, which dates are approximate and what was left out as unverified. Statuses
//! are imported as they are known today, not replayed through the transitions (the roadmaps,
//! seminars and lessons that completion needs are not in this dataset yet). No personal data
//! is invented: sponsors stay empty.

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use domain::{FabriqueStatus, OrganizationKind, ParticipationStatus, PartnerRole, TerritoryKind};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set};
use uuid::Uuid;

use domain::seminar::{SeminarKind, SeminarMode, SeminarStatus};
use store::journal::{self, Actor};

struct Org {
    key: &'static str,
    name: &'static str,
    acronym: Option<&'static str>,
    kind: OrganizationKind,
}

const ORGS: &[Org] = &[
    Org {
        key: "anct",
        name: "Agence nationale de la cohésion des territoires",
        acronym: Some("ANCT"),
        kind: OrganizationKind::Anct,
    },
    Org {
        key: "amf",
        name: "Association des maires de France",
        acronym: Some("AMF"),
        kind: OrganizationKind::ElectedOfficialsAssociation,
    },
    Org {
        key: "adcf",
        name: "Intercommunalités de France (ex-AdCF)",
        acronym: Some("AdCF"),
        kind: OrganizationKind::ElectedOfficialsAssociation,
    },
    Org {
        key: "france_urbaine",
        name: "France urbaine",
        acronym: None,
        kind: OrganizationKind::ElectedOfficialsAssociation,
    },
    Org {
        key: "villes_de_france",
        name: "Villes de France",
        acronym: None,
        kind: OrganizationKind::ElectedOfficialsAssociation,
    },
    Org {
        key: "anel",
        name: "Association nationale des élus du littoral",
        acronym: Some("ANEL"),
        kind: OrganizationKind::ElectedOfficialsAssociation,
    },
    Org {
        key: "cgdd",
        name: "Commissariat général au développement durable",
        acronym: Some("CGDD"),
        kind: OrganizationKind::MinistryDirectorate,
    },
    Org {
        key: "dgaln",
        name: "Direction générale de l'aménagement, du logement et de la nature",
        acronym: Some("DGALN"),
        kind: OrganizationKind::MinistryDirectorate,
    },
    Org {
        key: "dgom",
        name: "Direction générale des outre-mer",
        acronym: Some("DGOM"),
        kind: OrganizationKind::MinistryDirectorate,
    },
    Org {
        key: "ofb",
        name: "Office français de la biodiversité",
        acronym: Some("OFB"),
        kind: OrganizationKind::PublicOperator,
    },
    Org {
        key: "cerema",
        name: "Cerema",
        acronym: None,
        kind: OrganizationKind::PublicOperator,
    },
    Org {
        key: "cdc",
        name: "Banque des Territoires (Caisse des dépôts)",
        acronym: Some("CDC"),
        kind: OrganizationKind::Funder,
    },
    Org {
        key: "lyon3",
        name: "Université Jean Moulin Lyon 3",
        acronym: None,
        kind: OrganizationKind::Research,
    },
    Org {
        key: "tempo",
        name: "Tempo territorial",
        acronym: None,
        kind: OrganizationKind::Other,
    },
];

struct Terr {
    name: &'static str,
    kind: TerritoryKind,
    code: &'static str,
    focus: Option<&'static str>,
}

struct Fab {
    title: &'static str,
    theme: &'static str,
    programme: Option<&'static str>,
    start: (i32, u32, u32),
    end: Option<(i32, u32, u32)>,
    status: FabriqueStatus,
    territories: &'static [Terr],
    partners: &'static [(&'static str, &'static [PartnerRole])],
    source: &'static str,
}

use PartnerRole::{CoAnimator, CoFunder, Pilot};
use TerritoryKind::{
    CommunauteDAgglomeration as Ca, CommunauteDeCommunes as Cc, Commune, Metropole,
};

const fn t(
    name: &'static str,
    kind: TerritoryKind,
    code: &'static str,
    focus: Option<&'static str>,
) -> Terr {
    Terr {
        name,
        kind,
        code,
        focus,
    }
}

/// Approximate coordinates (WGS84) of each demo territory: the commune itself, or the main
/// town of an EPCI. For the map; not surveyed positions.
fn coordinates(code: &str) -> Option<(f64, f64)> {
    Some(match code {
        "242900314" => (48.390, -4.486), // Brest
        "244400404" => (47.218, -1.554), // Nantes
        "200023414" => (49.443, 1.099),  // Rouen
        "243100518" => (43.604, 1.444),  // Toulouse
        "56121" => (47.748, -3.370),     // Lorient
        "200067999" => (49.430, 2.081),  // Beauvais
        "200071751" => (46.205, 5.226),  // Bourg-en-Bresse
        "88413" => (48.285, 6.949),      // Saint-Dié-des-Vosges
        "97361" => (5.745, -53.930),     // Awala-Yalimapo
        "55049" => (48.750, 5.030),      // Beurey-sur-Saulx
        "33189" => (44.660, -0.190),     // Gornac
        "200034692" => (44.162, 4.620),  // Bagnols-sur-Cèze
        "247700057" => (48.540, 2.660),  // Melun
        "200041317" => (46.323, -0.459), // Niort
        "248000747" => (50.002, 2.652),  // Albert
        "200072882" => (46.770, -1.510), // Le Poiré-sur-Vie
        "200090561" => (47.222, 2.069),  // Vierzon
        "200065928" => (48.732, -3.456), // Lannion
        "200067437" => (44.092, 6.236),  // Digne-les-Bains
        "41018" => (47.586, 1.335),      // Blois
        "46042" => (44.448, 1.441),      // Cahors
        "86066" => (46.817, 0.546),      // Châtellerault
        "68066" => (48.079, 7.358),      // Colmar
        "17197" => (45.446, -0.434),     // Jonzac
        "42012" => (45.589, 4.036),      // Bard
        _ => return None,
    })
}

const FABRIQUES: &[Fab] = &[
    Fab {
        title: "Coopérations entre métropoles et territoires environnants",
        theme: "Coopérations métropoles et territoires",
        programme: None,
        start: (2018, 7, 1),
        end: Some((2019, 12, 31)),
        status: FabriqueStatus::Completed,
        territories: &[
            t("Brest Métropole", Metropole, "242900314", None),
            t("Nantes Métropole", Metropole, "244400404", None),
            t("Métropole Rouen Normandie", Metropole, "200023414", None),
            t("Toulouse Métropole", Metropole, "243100518", None),
        ],
        partners: &[
            ("anct", &[Pilot]),
            ("france_urbaine", &[CoAnimator]),
            ("adcf", &[CoAnimator]),
        ],
        source: "ANCT/CGET public pages (public-fabriques.md). Dates approximate: 'mid-2018 to end 2019'. Status imported, not replayed.",
    },
    Fab {
        title: "Villes moyennes et transition écologique : quelles mutations des modes de production et de consommation ?",
        theme: "Villes moyennes et transition écologique",
        programme: None,
        start: (2020, 1, 1),
        end: Some((2021, 6, 30)),
        status: FabriqueStatus::Completed,
        territories: &[
            t("Lorient", Commune, "56121", Some("logistique urbaine")),
            t(
                "Communauté d'agglomération du Beauvaisis",
                Ca,
                "200067999",
                Some("développement économique et transition écologique"),
            ),
            t(
                "Communauté d'agglomération du Bassin de Bourg-en-Bresse",
                Ca,
                "200071751",
                Some("densification pour le zéro artificialisation nette"),
            ),
            t(
                "Saint-Dié-des-Vosges",
                Commune,
                "88413",
                Some("pédagogie des mobilités douces"),
            ),
        ],
        partners: &[
            ("anct", &[Pilot]),
            ("villes_de_france", &[CoAnimator]),
            ("cgdd", &[CoAnimator]),
            ("dgaln", &[CoAnimator]),
        ],
        source: "ANCT public pages; publication ISBN 978-2-492484-20-9; 8 national action leads. Start year disputed (2019 or 2020): 2020 used; end approximate (results 2021). Status imported.",
    },
    Fab {
        title: "La nature comme atout pour l'attractivité et la résilience des territoires ruraux",
        theme: "Nature et attractivité rurale",
        programme: None,
        start: (2020, 10, 1),
        end: Some((2021, 10, 31)),
        status: FabriqueStatus::Completed,
        territories: &[
            t(
                "Awala-Yalimapo",
                Commune,
                "97361",
                Some("risques littoraux"),
            ),
            t("Bard", Commune, "42012", Some("résilience agricole")),
            t(
                "Beurey-sur-Saulx",
                Commune,
                "55049",
                Some("nature et aménagement"),
            ),
            t("Gornac", Commune, "33189", Some("ressource en eau")),
        ],
        partners: &[
            ("anct", &[Pilot]),
            ("amf", &[CoAnimator]),
            ("ofb", &[CoAnimator, CoFunder]),
            ("dgom", &[CoAnimator]),
            ("dgaln", &[CoAnimator]),
            ("lyon3", &[CoAnimator]),
        ],
        source: "ANCT interview (2021) and public pages; 14 national action leads. End month approximate ('2021'). Status imported.",
    },
    Fab {
        title: "Sites industriels de demain",
        theme: "Sites industriels et relocalisation",
        programme: Some("Territoires d'industrie"),
        start: (2021, 2, 1),
        end: Some((2022, 3, 31)),
        status: FabriqueStatus::Completed,
        territories: &[
            t(
                "Communauté d'agglomération du Gard Rhodanien",
                Ca,
                "200034692",
                None,
            ),
            t(
                "Communauté d'agglomération Melun Val de Seine",
                Ca,
                "247700057",
                None,
            ),
            t(
                "Communauté d'agglomération du Niortais",
                Ca,
                "200041317",
                None,
            ),
            t(
                "Communauté de communes du Pays du Coquelicot",
                Cc,
                "248000747",
                None,
            ),
            t(
                "Communauté de communes de Vie et Boulogne",
                Cc,
                "200072882",
                None,
            ),
            t(
                "Communauté de communes Vierzon-Sologne-Berry",
                Cc,
                "200090561",
                None,
            ),
            t("Lannion-Trégor Communauté", Ca, "200065928", None),
            t("Provence-Alpes-Agglomération", Ca, "200067437", None),
        ],
        partners: &[
            ("anct", &[Pilot]),
            ("cdc", &[CoFunder]),
            ("adcf", &[CoAnimator]),
            ("cerema", &[CoAnimator]),
        ],
        source: "ANCT interview (2021) and public pages; intersite seminar 6 July 2021 in Paris; publication ISBN 978-2-492484-33-9. Contractor not recorded: one source names Ramboll, unverified. Status imported.",
    },
    Fab {
        title: "Comment mieux prendre en compte les temporalités et les rythmes de vie dans les villes moyennes",
        theme: "Temporalités et rythmes de vie",
        programme: None,
        start: (2021, 6, 1),
        end: None,
        status: FabriqueStatus::Completed,
        territories: &[
            t("Blois", Commune, "41018", None),
            t("Cahors", Commune, "46042", None),
            t("Châtellerault", Commune, "86066", None),
            t("Colmar", Commune, "68066", None),
        ],
        partners: &[
            ("anct", &[Pilot]),
            ("villes_de_france", &[CoAnimator]),
            ("tempo", &[CoAnimator]),
        ],
        source: "ANCT public pages: launched June 2021; end date not published (12 months assumed). Status imported.",
    },
    Fab {
        title: "Dans un monde en transition, être senior demain dans une petite ville",
        theme: "Vieillissement et petites villes",
        programme: Some("Petites villes de demain"),
        start: (2022, 1, 1),
        end: Some((2023, 1, 31)),
        status: FabriqueStatus::Completed,
        territories: &[t("Jonzac", Commune, "17197", None)],
        partners: &[("anct", &[Pilot])],
        source: "ANCT public pages: January 2022 to January 2023. Only Jonzac is verified; seven other Petites villes de demain communes took part but are left out as unverified. Status imported.",
    },
    Fab {
        title: "Littoral : l'impact du changement climatique et de l'érosion côtière sur l'économie des intercommunalités littorales",
        theme: "Littoral, climat et érosion côtière",
        programme: None,
        start: (2025, 1, 1),
        end: None,
        status: FabriqueStatus::Running,
        territories: &[],
        partners: &[
            ("anct", &[Pilot]),
            ("anel", &[CoAnimator]),
            ("dgom", &[CoAnimator]),
        ],
        source: "ANCT public pages: launched in 2025, running. Start month approximate. The coastal EPCI taking part are unverified and left out.",
    },
];

/// The id the first migration gave this programme.
fn programme_id(name: &str) -> anyhow::Result<Uuid> {
    let (id, _) = migration::PROGRAMMES
        .iter()
        .find(|(_, n)| *n == name)
        .with_context(|| format!("unknown programme {name}"))?;
    Ok(Uuid::parse_str(id)?)
}

fn date((y, m, d): (i32, u32, u32)) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("bad date {y}-{m}-{d}"))
}

/// Loads the demo dataset into an empty database, in one transaction.
pub async fn demo(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = store::begin_write(db).await?;
    if entity::fabrique::Entity::find().count(&txn).await? > 0
        || entity::organization::Entity::find().count(&txn).await? > 0
    {
        bail!("the database is not empty: the demo data loads into an empty database only");
    }
    let actor = Actor::new(domain::Access::system(), Some("seed-demo".into()));
    let system = domain::Access::system();
    let now = Utc::now();
    let mut orgs = std::collections::HashMap::new();
    for o in ORGS {
        let m = entity::organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(o.name.into()),
            acronym: Set(o.acronym.map(Into::into)),
            kind: Set(o.kind.as_str().into()),
            website: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        journal::record(
            &txn,
            &actor,
            "organization.imported",
            m.id,
            None,
            &store::organizations::get(&txn, m.id).await?,
        )
        .await?;
        orgs.insert(o.key, m.id);
    }
    let mut territories = std::collections::HashMap::new();
    for f in FABRIQUES {
        let start = date(f.start)?;
        let end = f
            .end
            .map(date)
            .transpose()?
            .unwrap_or_else(|| domain::default_end(start));
        let fid = Uuid::now_v7();
        let count = i32::try_from(f.territories.len())?;
        entity::fabrique::ActiveModel {
            id: Set(fid),
            search: Set(domain::text::searchable([Some(f.title), Some(f.theme)])),
            title: Set(f.title.into()),
            theme: Set(Some(f.theme.into())),
            description: Set(String::new()),
            programme_id: Set(f.programme.map(programme_id).transpose()?),
            min_territories: Set(count.clamp(1, 4)),
            max_territories: Set(count.max(8)),
            planned_start: Set(Some(start)),
            actual_start: Set(Some(start)),
            end_date: Set(Some(end)),
            status: Set(f.status.as_str().into()),
            status_reason: Set(None),
            status_changed_at: Set(now),
            source: Set(Some(f.source.into())),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        for (key, roles) in f.partners {
            let org_id = *orgs
                .get(key)
                .with_context(|| format!("unknown organization {key}"))?;
            for role in *roles {
                entity::fabrique_partner::ActiveModel {
                    fabrique_id: Set(fid),
                    organization_id: Set(org_id),
                    role: Set(role.as_str().into()),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
        journal::record(
            &txn,
            &actor,
            "fabrique.imported",
            fid,
            Some(fid),
            &store::fabriques::get(&txn, &system, fid).await?,
        )
        .await?;
        for terr in f.territories {
            let code = terr
                .kind
                .parse_code(terr.code)
                .map_err(|e| anyhow::anyhow!("{} ({}): {e}", terr.name, terr.code))?;
            let tid = match territories.get(terr.code) {
                Some(id) => *id,
                None => {
                    // Names, departments, regions and populations come from the official
                    // geography; a demo code missing from it is a bug in this file.
                    let official = match store::reference::lookup(&txn, terr.kind, terr.code)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                    {
                        store::reference::Lookup::Found(o) => o,
                        other => anyhow::bail!(
                            "{} ({}) is not in the official geography: {other:?}",
                            terr.name,
                            terr.code
                        ),
                    };
                    let (latitude, longitude) = match coordinates(terr.code) {
                        Some((lat, lon)) => (Some(lat), Some(lon)),
                        None => (None, None),
                    };
                    let m = entity::territory::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        name: Set(official.name),
                        kind: Set(terr.kind.as_str().into()),
                        code_scheme: Set(Some(domain::territory::scheme(&code).into())),
                        code: Set(Some(code.as_str().into())),
                        department: Set(official.department),
                        region: Set(official.region),
                        population: Set(official.population),
                        latitude: Set(latitude),
                        longitude: Set(longitude),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                    }
                    .insert(&txn)
                    .await?;
                    journal::record(
                        &txn,
                        &actor,
                        "territory.imported",
                        m.id,
                        None,
                        &store::territories::get(&txn, m.id).await?,
                    )
                    .await?;
                    territories.insert(terr.code, m.id);
                    m.id
                }
            };
            let status = match f.status {
                FabriqueStatus::Completed => ParticipationStatus::Completed,
                _ => ParticipationStatus::Active,
            };
            let pid = Uuid::now_v7();
            entity::participation::ActiveModel {
                id: Set(pid),
                fabrique_id: Set(fid),
                territory_id: Set(tid),
                status: Set(status.as_str().into()),
                sponsor_name: Set(None),
                sponsor_mandate: Set(None),
                motivation: Set(None),
                focus: Set(terr.focus.map(Into::into)),
                status_reason: Set(None),
                applied_at: Set(now),
                accepted_at: Set(Some(now)),
                rejected_at: Set(None),
                activated_at: Set(Some(now)),
                completed_at: Set((status == ParticipationStatus::Completed).then_some(now)),
                withdrawn_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            journal::record(
                &txn,
                &actor,
                "participation.imported",
                pid,
                Some(fid),
                &store::participations::get(&txn, &system, pid).await?,
            )
            .await?;
            if status == ParticipationStatus::Completed {
                // The record says each territory ended with a roadmap; not its content.
                let rid = Uuid::now_v7();
                entity::roadmap::ActiveModel {
                    id: Set(rid),
                    participation_id: Set(pid),
                    kind: Set(domain::roadmap::RoadmapKind::Roadmap.as_str().into()),
                    title: Set(format!("Feuille de route de {}", terr.name)),
                    summary: Set(ROADMAP_NOTE.into()),
                    status: Set(domain::roadmap::RoadmapStatus::Adopted.as_str().into()),
                    submitted_at: Set(None),
                    adopted_on: Set(None),
                    adoption_reference: Set(None),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
                journal::record(
                    &txn,
                    &actor,
                    "roadmap.imported",
                    rid,
                    Some(fid),
                    &store::roadmaps::get(&txn, &system, pid).await?,
                )
                .await?;
            }
        }
        extras(&txn, &actor, f.title, fid, &territories).await?;
    }
    store::figures::fill_missing(&txn).await?;
    txn.commit().await?;
    crate::db::analyze(db, &[]).await?;
    tracing::info!(
        fabriques = FABRIQUES.len(),
        organizations = ORGS.len(),
        territories = territories.len(),
        "demo data loaded"
    );
    Ok(())
}

const ROADMAP_NOTE: &str = "Imported: the public record says this territory ended the Fabrique with a roadmap; its content, adoption date and reference are not in this dataset.";

/// The seminars, lessons and testimonies the public record names, and nothing more.
async fn extras(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    title: &str,
    fid: Uuid,
    territories: &std::collections::HashMap<&str, Uuid>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let lesson = |title: &str, body: &str| entity::lesson::ActiveModel {
        id: Set(Uuid::now_v7()),
        fabrique_id: Set(fid),
        search: Set(domain::text::searchable([Some(title), Some(body)])),
        title: Set(title.into()),
        body: Set(body.into()),
        kind: Set(domain::LessonKind::Lesson.as_str().into()),
        target_programme_id: Set(None),
        target_body: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match title {
        "Sites industriels de demain" => {
            let id = Uuid::now_v7();
            entity::seminar::ActiveModel {
                id: Set(id),
                fabrique_id: Set(fid),
                participation_id: Set(None),
                kind: Set(SeminarKind::Intersite.as_str().into()),
                number: Set(1),
                scheduled_on: Set(date((2021, 7, 6))?),
                place: Set(Some("Paris".into())),
                mode: Set(SeminarMode::InPerson.as_str().into()),
                status: Set(SeminarStatus::Held.as_str().into()),
                attendance: Set(None),
                summary: Set(Some("Intersite seminar of 6 July 2021 in Paris (public record). Its number in the series and its attendance are not published.".into())),
                status_reason: Set(None),
                held_at: Set(None),
                cancelled_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?;
            journal::record(
                txn,
                actor,
                "seminar.imported",
                id,
                Some(fid),
                &store::seminars::get(txn, &domain::Access::system(), id).await?,
            )
            .await?;
        }
        t if t.starts_with("Villes moyennes et transition") => {
            let l = lesson("8 pistes d'action nationales", "The Fabrique published 8 national action leads (ISBN 978-2-492484-20-9). Their text is not in this dataset.").insert(txn).await?;
            journal_lesson(txn, actor, fid, l.id).await?;
            // Testimonies given at the 2020 workshop (videos); their addresses are not in this dataset.
            for (speaker, role, code) in [
                ("Guillaume Fauvet", "vice-président", "200071751"),
                ("Brigitte Henri", "adjointe au maire", "88413"),
                (
                    "Loïc Barbaras et Victor Debil-Caux",
                    "vice-présidents",
                    "200067999",
                ),
            ] {
                let id = Uuid::now_v7();
                entity::testimony::ActiveModel {
                    id: Set(id),
                    fabrique_id: Set(fid),
                    territory_id: Set(territories.get(code).copied()),
                    search: Set(domain::text::searchable([Some(role)])),
                    speaker: Set(speaker.into()),
                    role: Set(Some(role.into())),
                    media_url: Set(None),
                    quote: Set(None),
                    given_on: Set(None),
                    published: Set(true),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(txn)
                .await?;
                journal::record(
                    txn,
                    actor,
                    "testimony.imported",
                    id,
                    Some(fid),
                    &store::testimonies::get(txn, &domain::Access::system(), id).await?,
                )
                .await?;
            }
        }
        t if t.starts_with("La nature comme atout") => {
            let l = lesson("14 pistes d'action nationales", "The Fabrique published 14 national action leads. Their text is not in this dataset.").insert(txn).await?;
            journal_lesson(txn, actor, fid, l.id).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn journal_lesson(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    fid: Uuid,
    id: Uuid,
) -> anyhow::Result<()> {
    journal::record(
        txn,
        actor,
        "lesson.imported",
        id,
        Some(fid),
        &store::lessons::get(txn, &domain::Access::system(), id).await?,
    )
    .await?;
    Ok(())
}

/// How many Fabriques the demo holds (for tests and docs).
pub const DEMO_FABRIQUES: usize = FABRIQUES.len();
