//! DESIGN 7's reference floor: the two files read as the CLI reads them, and parsed by
//! serde_json into structs of borrowed strings (a 24-byte `Option` of a `Cow<str>` per field,
//! as in the DESIGN's reference figures), one file per thread, and nothing else.
//!
//! `cargo run --release -p sync-benches --example serde_parse -- PREVIOUS CURRENT`

use std::borrow::Cow;
use std::process::ExitCode;

use serde::Deserialize;

mod pair;

/// A string borrowed from the input when it has no escape (serde borrows a `Cow` only when
/// it is a field's own type, not inside an `Option`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// One contract of document 000, every field a string borrowed from the input when it has no
/// escape.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Contract<'a> {
    #[serde(borrow, rename = "codeContrat")]
    code_contrat: Option<Text<'a>>,
    #[serde(borrow, rename = "dateDebut")]
    date_debut: Option<Text<'a>>,
    #[serde(borrow, rename = "dateFin")]
    date_fin: Option<Text<'a>>,
    #[serde(borrow, rename = "nomEntreprise")]
    nom_entreprise: Option<Text<'a>>,
    #[serde(borrow, rename = "codeGroupe")]
    code_groupe: Option<Text<'a>>,
    #[serde(borrow, rename = "nomGroupe")]
    nom_groupe: Option<Text<'a>>,
    #[serde(borrow, rename = "codeSite")]
    code_site: Option<Text<'a>>,
    #[serde(borrow, rename = "nomSite")]
    nom_site: Option<Text<'a>>,
    #[serde(borrow, rename = "codePeriode")]
    code_periode: Option<Text<'a>>,
    #[serde(borrow, rename = "nomPeriode")]
    nom_periode: Option<Text<'a>>,
    #[serde(borrow, rename = "codeAnnee")]
    code_annee: Option<Text<'a>>,
    #[serde(borrow, rename = "nomAnnee")]
    nom_annee: Option<Text<'a>>,
    #[serde(borrow, rename = "codeFormation")]
    code_formation: Option<Text<'a>>,
    #[serde(borrow, rename = "nomFormation")]
    nom_formation: Option<Text<'a>>,
    #[serde(borrow, rename = "codeMarque")]
    code_marque: Option<Text<'a>>,
    #[serde(borrow, rename = "nomMarque")]
    nom_marque: Option<Text<'a>>,
    #[serde(borrow, rename = "codeApprenant")]
    code_apprenant: Option<Text<'a>>,
    #[serde(borrow, rename = "prenomApprenant")]
    prenom_apprenant: Option<Text<'a>>,
    #[serde(borrow, rename = "nomApprenant")]
    nom_apprenant: Option<Text<'a>>,
    #[serde(borrow, rename = "emailApprenant")]
    email_apprenant: Option<Text<'a>>,
    #[serde(borrow, rename = "codePersonnel")]
    code_personnel: Option<Text<'a>>,
    #[serde(borrow, rename = "prenomPersonnel")]
    prenom_personnel: Option<Text<'a>>,
    #[serde(borrow, rename = "nomPersonnel")]
    nom_personnel: Option<Text<'a>>,
    #[serde(borrow, rename = "emailPersonnel")]
    email_personnel: Option<Text<'a>>,
    #[serde(borrow, rename = "codeMaitreApprentissage")]
    code_maitre_apprentissage: Option<Text<'a>>,
    #[serde(borrow, rename = "prenomMaitreApprentissage")]
    prenom_maitre_apprentissage: Option<Text<'a>>,
    #[serde(borrow, rename = "nomMaitreApprentissage")]
    nom_maitre_apprentissage: Option<Text<'a>>,
    #[serde(borrow, rename = "emailMaitreApprentissage")]
    email_maitre_apprentissage: Option<Text<'a>>,
    #[serde(borrow, rename = "missionTitle")]
    mission_title: Option<Text<'a>>,
    #[serde(borrow, rename = "missionDetails")]
    mission_details: Option<Text<'a>>,
    #[serde(borrow, rename = "monthStartGroup")]
    month_start_group: Option<Text<'a>>,
    #[serde(borrow, rename = "rncp")]
    rncp: Option<Text<'a>>,
}

fn main() -> ExitCode {
    pair::run("serde_parse", |previous, current| {
        let parse = |bytes| {
            serde_json::from_slice::<Vec<Contract<'_>>>(bytes)
                .map(|contracts| contracts.len())
                .map_err(|e| e.to_string())
        };
        let (p, c) = pair::both(parse, previous, current)?;
        Ok(format!("parsed {p} and {c} contracts"))
    })
}
