//! The wire types of the API for its OpenAPI document: what each route takes and answers,
//! derived with `ToSchema` from the types serialized, or, where an answer is written from
//! bytes already serialized (contract objects, sync and listing answers), types of the same
//! shape that only describe it. Schemathesis checks every answer against them in CI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A contract object of document 000, its 32 fields as the documents spell them. Every field
/// is a string; the required ones, their formats and the rules between them are checked by
/// the sync (every problem at once, 422), not by this shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "codeContrat": "CT00000001", "dateDebut": "07/09/2025", "dateFin": "07/08/2027",
    "nomEntreprise": "Transports Rapides 35", "codeGroupe": "GRP00000",
    "nomGroupe": "Groupe BTS Commerce International 1 0", "codeSite": "SITE00",
    "nomSite": "Lyon Part-Dieu", "codePeriode": "P2025-0", "nomPeriode": "Période 1 2025-2026",
    "codeAnnee": "A2025", "nomAnnee": "Année 2025-2026", "codeFormation": "F0000",
    "nomFormation": "BTS Commerce International 1", "codeApprenant": "APP00000001",
    "prenomApprenant": "Camille", "nomApprenant": "Durand",
    "emailApprenant": "camille.durand.app1@cfa.example", "codePersonnel": "PER000001",
    "prenomPersonnel": "Jade", "nomPersonnel": "Leroy",
    "emailPersonnel": "jade.leroy.per1@ecole.example", "codeMaitreApprentissage": "MA0000001",
    "prenomMaitreApprentissage": "Manon", "nomMaitreApprentissage": "Bertrand",
    "emailMaitreApprentissage": "manon.bertrand.ma1@entreprise.example",
    "missionTitle": "Développeur d'applications", "monthStartGroup": "09", "rncp": "RNCP30000"
}))]
pub struct ContractObject {
    /// `codeContrat`.
    #[serde(rename = "codeContrat")]
    pub code_contrat: Option<String>,
    /// `dateDebut`.
    #[serde(rename = "dateDebut")]
    pub date_debut: Option<String>,
    /// `dateFin`.
    #[serde(rename = "dateFin")]
    pub date_fin: Option<String>,
    /// `nomEntreprise`.
    #[serde(rename = "nomEntreprise")]
    pub nom_entreprise: Option<String>,
    /// `codeGroupe`.
    #[serde(rename = "codeGroupe")]
    pub code_groupe: Option<String>,
    /// `nomGroupe`.
    #[serde(rename = "nomGroupe")]
    pub nom_groupe: Option<String>,
    /// `codeSite`.
    #[serde(rename = "codeSite")]
    pub code_site: Option<String>,
    /// `nomSite`.
    #[serde(rename = "nomSite")]
    pub nom_site: Option<String>,
    /// `codePeriode`.
    #[serde(rename = "codePeriode")]
    pub code_periode: Option<String>,
    /// `nomPeriode`.
    #[serde(rename = "nomPeriode")]
    pub nom_periode: Option<String>,
    /// `codeAnnee`.
    #[serde(rename = "codeAnnee")]
    pub code_annee: Option<String>,
    /// `nomAnnee`.
    #[serde(rename = "nomAnnee")]
    pub nom_annee: Option<String>,
    /// `codeFormation`.
    #[serde(rename = "codeFormation")]
    pub code_formation: Option<String>,
    /// `nomFormation`.
    #[serde(rename = "nomFormation")]
    pub nom_formation: Option<String>,
    /// `codeMarque`.
    #[serde(rename = "codeMarque")]
    pub code_marque: Option<String>,
    /// `nomMarque`.
    #[serde(rename = "nomMarque")]
    pub nom_marque: Option<String>,
    /// `codeApprenant`.
    #[serde(rename = "codeApprenant")]
    pub code_apprenant: Option<String>,
    /// `prenomApprenant`.
    #[serde(rename = "prenomApprenant")]
    pub prenom_apprenant: Option<String>,
    /// `nomApprenant`.
    #[serde(rename = "nomApprenant")]
    pub nom_apprenant: Option<String>,
    /// `emailApprenant`.
    #[serde(rename = "emailApprenant")]
    pub email_apprenant: Option<String>,
    /// `codePersonnel`.
    #[serde(rename = "codePersonnel")]
    pub code_personnel: Option<String>,
    /// `prenomPersonnel`.
    #[serde(rename = "prenomPersonnel")]
    pub prenom_personnel: Option<String>,
    /// `nomPersonnel`.
    #[serde(rename = "nomPersonnel")]
    pub nom_personnel: Option<String>,
    /// `emailPersonnel`.
    #[serde(rename = "emailPersonnel")]
    pub email_personnel: Option<String>,
    /// `codeMaitreApprentissage`.
    #[serde(rename = "codeMaitreApprentissage")]
    pub code_maitre_apprentissage: Option<String>,
    /// `prenomMaitreApprentissage`.
    #[serde(rename = "prenomMaitreApprentissage")]
    pub prenom_maitre_apprentissage: Option<String>,
    /// `nomMaitreApprentissage`.
    #[serde(rename = "nomMaitreApprentissage")]
    pub nom_maitre_apprentissage: Option<String>,
    /// `emailMaitreApprentissage`.
    #[serde(rename = "emailMaitreApprentissage")]
    pub email_maitre_apprentissage: Option<String>,
    /// `missionTitle`.
    #[serde(rename = "missionTitle")]
    pub mission_title: Option<String>,
    /// `missionDetails`.
    #[serde(rename = "missionDetails")]
    pub mission_details: Option<String>,
    /// `monthStartGroup`.
    #[serde(rename = "monthStartGroup")]
    pub month_start_group: Option<String>,
    /// `rncp`.
    #[serde(rename = "rncp")]
    pub rncp: Option<String>,
}

/// `{"contrats": [...]}`: the sync's body when not a bare array.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractsEnvelope {
    /// Every active contract.
    pub contrats: Vec<ContractObject>,
}

/// The body of a full sync or a diff: every active contract, as a bare array or in
/// `{"contrats": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ContractsRequest {
    /// A bare array.
    Bare(Vec<ContractObject>),
    /// `{"contrats": [...]}`.
    Envelope(ContractsEnvelope),
}

/// The body of `POST /api/sync/v2/contrats/changes`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"changes": {"added": [], "updated": [], "removed": ["CT00000001"]}}))]
pub struct ChangesRequest {
    /// The delta.
    pub changes: ChangeLists,
}

/// A delta: contracts added and updated in full, codes of the ones removed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeLists {
    /// New contracts.
    pub added: Option<Vec<ContractObject>>,
    /// Changed contracts, in full.
    pub updated: Option<Vec<ContractObject>>,
    /// `codeContrat`s of contracts to archive.
    #[serde(default)]
    pub removed: Vec<String>,
}

/// The four counts of a diff.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SummaryWire {
    /// Contracts in both sets, equal.
    pub same: usize,
    /// Contracts only in the new set.
    pub added: usize,
    /// Contracts in both sets, changed.
    pub updated: usize,
    /// Contracts only in the stored set (archived by a sync).
    pub removed: usize,
}

impl From<sync_core::Summary> for SummaryWire {
    fn from(summary: sync_core::Summary) -> Self {
        SummaryWire {
            same: summary.same,
            added: summary.added,
            updated: summary.updated,
            removed: summary.removed,
        }
    }
}

/// A problem of a contract payload (warnings of a sync, details of its 422).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"index": 0, "codeContrat": "CT00000001", "field": "emailApprenant",
    "code": "invalid_email", "message": "emailApprenant is not an email address"}))]
pub struct ProblemWire {
    /// 0-based position of the contract in the payload; null for a whole-payload problem.
    pub index: Option<usize>,
    /// The contract's `codeContrat`, when known.
    #[serde(rename = "codeContrat")]
    pub contract_code: Option<String>,
    /// The field concerned, as the payload names it.
    pub field: Option<String>,
    /// A stable machine code: `invalid_json`, `missing_field`, `invalid_type`, `invalid_date`,
    /// `date_order`, `invalid_email`, `duplicate_contract`, `key_conflict`,
    /// `code_role_conflict`, `email_conflict`, `user_conflict`, `reference_conflict`,
    /// `group_conflict`, `brand_incomplete` (errors), `user_name_mismatch`, `unknown_field`
    /// (warnings).
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
}

impl From<&sync_core::Problem> for ProblemWire {
    fn from(problem: &sync_core::Problem) -> Self {
        ProblemWire {
            index: problem.index,
            contract_code: problem.contract_code.clone(),
            field: problem.field.as_ref().map(|f| f.name().to_owned()),
            code: problem.code.as_str().to_owned(),
            message: problem.message.clone(),
        }
    }
}

/// The answer of a sync: the active set after it, the counts and the warnings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SyncAnswer {
    /// Active contracts after the sync.
    pub total: usize,
    /// The active contracts.
    pub contrats: Vec<ContractObject>,
    /// What the sync did.
    pub summary: SummaryWire,
    /// Problems that did not refuse the sync.
    pub warnings: Vec<ProblemWire>,
    /// The run this sync is (`GET /api/sync/v1/runs/{runId}`).
    #[serde(rename = "runId")]
    #[schema(example = "4f9c2d7e0b1a4c3d8e6f5a4b3c2d1e0f")]
    pub run_id: String,
}

/// One changed field of an updated contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeWire {
    /// The field's name.
    pub field: String,
    /// The stored value; null when absent.
    pub old: Option<String>,
    /// The value sent; null when absent.
    pub new: Option<String>,
}

/// The answer of a diff: the contracts of each kind, the changes by `codeContrat`, the counts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiffAnswer {
    /// Unchanged contracts.
    pub same: Vec<ContractObject>,
    /// New contracts.
    pub added: Vec<ContractObject>,
    /// Changed contracts, as sent.
    pub updated: Vec<ContractObject>,
    /// Contracts a sync would archive.
    pub removed: Vec<ContractObject>,
    /// The changed fields of each updated contract, by `codeContrat`.
    pub changes: BTreeMap<String, Vec<ChangeWire>>,
    /// The counts.
    pub summary: SummaryWire,
    /// Problems that would not refuse the sync.
    pub warnings: Vec<ProblemWire>,
}

/// A page of contracts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractPage {
    /// How many contracts the listing has in all.
    pub total: usize,
    /// This page, ordered by `codeContrat`.
    pub contrats: Vec<ContractObject>,
}

/// The answer of the token check.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"value": "token valid", "name": "cfa-lyon"}))]
pub struct TokenAnswer {
    /// Always `token valid`.
    pub value: String,
    /// The tenant's name.
    pub name: String,
}

/// The answer of `GET /healthz` when the store answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthAnswer {
    /// Always `ok`.
    pub status: String,
}

/// The answer of the sandbox delete.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedAnswer {
    /// Always true.
    pub deleted: bool,
    /// The run this delete is.
    #[serde(rename = "runId")]
    pub run_id: String,
}

/// A session model: a contract is integrated when one matches it; fields left out match
/// anything.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"codeFormation": "F0000", "codeAnnee": "A2025"}))]
pub struct SessionModelWire {
    /// `codeFormation`, not blank.
    #[serde(rename = "codeFormation")]
    #[schema(pattern = r"\S")]
    pub formation: String,
    /// `codeAnnee`, not blank.
    #[serde(rename = "codeAnnee")]
    #[schema(pattern = r"\S")]
    pub year: String,
    /// `codeSite`, not blank when given.
    #[serde(rename = "codeSite", default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"\S")]
    pub site: Option<String>,
    /// `codePeriode`, not blank when given.
    #[serde(
        rename = "codePeriode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(pattern = r"\S")]
    pub period: Option<String>,
}

/// The body of `POST /api/sync/v1/calendar-group-ics`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"groupId": "GRP00000", "calendarUrl": "https://calendar.example/grp00000.ics"}))]
pub struct CalendarRequest {
    /// A `codeGroupe` of an active contract.
    #[serde(rename = "groupId")]
    pub group_id: String,
    /// The calendar's URL: http, https or webcal.
    #[serde(rename = "calendarUrl")]
    pub calendar_url: String,
}

/// The answer of a calendar registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarRegistered {
    /// The group.
    #[serde(rename = "groupId")]
    pub group_id: String,
    /// How many events were kept.
    pub events: usize,
    /// The first event's start; null without events.
    pub from: Option<String>,
    /// The last event's end; null without events.
    pub to: Option<String>,
}

/// An event of a group's calendar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventWire {
    /// The event's `UID`, when it has one.
    pub uid: Option<String>,
    /// Its `SUMMARY`.
    pub summary: Option<String>,
    /// Its start.
    pub start: String,
    /// Its end.
    pub end: String,
    /// Its `LOCATION`.
    pub location: Option<String>,
    /// Its `DESCRIPTION`.
    pub description: Option<String>,
}

/// A group's stored events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarEvents {
    /// The group.
    #[serde(rename = "groupId")]
    pub group_id: String,
    /// Its events, by start.
    pub events: Vec<EventWire>,
}

/// An absence or a late arrival.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"dateDebut": "02/09/2024-08:30", "dateFin": "02/09/2024-12:30",
    "type": "absence", "isJusitifie": false, "motif": "transport"}))]
pub struct AbsenceWire {
    /// Start, `DD/MM/YYYY-HH:mm`.
    #[serde(rename = "dateDebut")]
    pub start: String,
    /// End, `DD/MM/YYYY-HH:mm`.
    #[serde(rename = "dateFin")]
    pub end: String,
    /// `absence` or `retard`.
    #[serde(rename = "type")]
    pub kind: AbsenceKindWire,
    /// Whether it is justified (document 000's spelling; `isJustifie` is accepted too).
    #[serde(rename = "isJusitifie")]
    pub justified: bool,
    /// The reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motif: Option<String>,
}

/// `absence` or `retard`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AbsenceKindWire {
    /// An absence.
    Absence,
    /// A late arrival.
    Retard,
}

/// The body of `POST /api/sync/v1/absences-for-student`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"email": "camille.durand.app1@cfa.example", "data": [{"dateDebut": "02/09/2024-08:30",
    "dateFin": "02/09/2024-12:30", "type": "absence", "isJusitifie": false, "motif": "transport"}]}))]
pub struct AbsencesRequest {
    /// The apprentice's email, not blank.
    #[schema(pattern = r"\S")]
    pub email: String,
    /// The student's absences: they replace the stored ones. Each item is checked (422 with
    /// every bad item).
    #[schema(value_type = Vec<AbsenceWire>)]
    pub data: Vec<Value>,
}

/// The answer of `POST /api/sync/v1/absences-for-student`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AbsencesStored {
    /// The email.
    pub email: String,
    /// How many absences are stored now.
    pub absences: usize,
}

/// The answer of `GET /api/sync/v1/absences-for-student`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AbsencesList {
    /// The email.
    pub email: String,
    /// The stored absences.
    pub absences: Vec<AbsenceWire>,
}

/// The cycle API's error answer, with the document's codes: 1000 `Required id`, 1001
/// `Invalid id`, 1002 `Required memberId`, 1003 `Invalid memberId`, 1004 `Required
/// customFieldAPIName`, 1005 `Invalid customFieldAPIName`, 1006 statuses missing, 1007 a
/// status missing, 1008 `Invalid status id`, 1009 `Invalid user`, 1010 an invalid date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"isSuccess": false, "errorCode": 1001, "message": "Invalid id"}))]
pub struct CycleErrorBody {
    /// Always false.
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
    /// The document's code.
    #[serde(rename = "errorCode")]
    #[schema(minimum = 1000, maximum = 1010)]
    pub error_code: u16,
    /// The document's message.
    pub message: String,
}

/// A 400 of a cycle route: the document's error, or the API's error for a body that is not
/// JSON.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CycleBadRequest {
    /// A code of the document.
    Cycle(CycleErrorBody),
    /// Not JSON at all (`invalid_json`).
    Api(crate::openapi::ErrorBody),
}

/// `{"isSuccess": true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CycleSuccess {
    /// Always true.
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
}

/// `{"isSuccess": true, "entryId"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CycleStatusAdded {
    /// Always true.
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
    /// The new status entry's id.
    #[serde(rename = "entryId")]
    pub entry_id: String,
}

/// The body of `getlist`: an object, read for nothing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({}))]
pub struct EmptyRequest {}

/// A cycle (regulation), as imported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CycleWire {
    /// Its id.
    #[serde(rename = "cycleId")]
    pub cycle_id: String,
    /// Its administrative name.
    #[serde(rename = "adminName")]
    pub admin_name: Option<String>,
    /// Its names by language, as imported.
    #[schema(value_type = Object)]
    pub name: Option<Value>,
    /// Its rule's id.
    #[serde(rename = "ruleId")]
    pub rule_id: Option<String>,
    /// Whether it is active.
    #[serde(rename = "isActive")]
    pub is_active: Option<bool>,
    /// Whether it is deleted.
    #[serde(rename = "isDeleted")]
    pub is_deleted: Option<bool>,
}

/// A requirement of a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequirementWire {
    /// Its id, as imported.
    pub id: Option<Value>,
    /// Its type, a number.
    #[serde(rename = "type")]
    #[schema(nullable = false)]
    pub kind: Option<f64>,
    /// The credits required.
    #[serde(rename = "targetValue")]
    #[schema(nullable = false)]
    pub target_value: Option<f64>,
}

/// A period of a cycle, with its requirements.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeriodWire {
    /// Its id.
    #[serde(rename = "cyclePeriodId")]
    pub cycle_period_id: String,
    /// Its cycle (required for a new period: 422 when missing or unknown).
    #[serde(rename = "cycleId")]
    pub cycle_id: Option<String>,
    /// Its administrative name.
    #[serde(rename = "adminName")]
    pub admin_name: Option<String>,
    /// Its rule's id.
    #[serde(rename = "ruleId")]
    pub rule_id: Option<String>,
    /// Its start, ISO 8601 (422 otherwise).
    #[serde(rename = "startDate")]
    #[schema(nullable = false)]
    pub start_date: Option<String>,
    /// Its duration, in `durationUnit`s.
    pub duration: Option<f64>,
    /// The unit of `duration`, as document 004 numbers them.
    #[serde(rename = "durationUnit")]
    pub duration_unit: Option<f64>,
    /// Whether the requirements are shown.
    #[serde(rename = "isRequirementsShown")]
    pub is_requirements_shown: Option<bool>,
    /// Whether members declare their own credits.
    #[serde(rename = "isUserStatement")]
    pub is_user_statement: Option<bool>,
    /// Whether it is open before its start.
    #[serde(rename = "isAccessibleBeforeStart")]
    pub is_accessible_before_start: Option<bool>,
    /// Whether it is active.
    #[serde(rename = "isActive")]
    pub is_active: Option<bool>,
    /// Whether it is deleted.
    #[serde(rename = "isDeleted")]
    pub is_deleted: Option<bool>,
    /// Its requirements.
    pub requirements: Option<Vec<RequirementWire>>,
}

/// The body of `getperiodlist`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "2020-01-01T00:00:00Z"}))]
pub struct PeriodListRequestWire {
    /// The cycle's id (1000 when missing, 1001 when unknown).
    #[schema(pattern = r"\S")]
    pub id: String,
    /// Only periods starting on or after it, ISO 8601 (1010 otherwise).
    #[serde(rename = "filterDate")]
    pub filter_date: Option<String>,
}

/// The body of `getuserprogress`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "DTUvbcrKNN3szXg6aQY/Sg==", "memberId": "nWJ7HZLyI8l2otoNsxuXgA=="}))]
pub struct UserProgressRequestWire {
    /// The period's id (1000 when missing, 1001 when unknown).
    #[schema(pattern = r"\S")]
    pub id: String,
    /// The member's id (1002 when missing, 1003 when unknown).
    #[serde(rename = "memberId")]
    #[schema(pattern = r"\S")]
    pub member_id: String,
    /// Repeated in the answer as sent, whatever it is.
    #[serde(rename = "customFieldAPIName", default)]
    pub custom_field_api_name: Value,
}

/// A member's credits in a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserProgressWire {
    /// The period's id, as sent.
    pub id: String,
    /// The member's id, as sent.
    #[serde(rename = "memberId")]
    pub member_id: String,
    /// The period's requirement.
    #[serde(rename = "requiredCredits")]
    pub required_credits: f64,
    /// Credits completed.
    #[serde(rename = "completedCredits")]
    pub completed_credits: f64,
    /// Credits exempted.
    #[serde(rename = "exemptedCredits")]
    pub exempted_credits: f64,
    /// Credits from providers.
    #[serde(rename = "providerCredits")]
    pub provider_credits: f64,
    /// As sent, null when not.
    #[serde(rename = "customFieldAPIName")]
    pub custom_field_api_name: Value,
}

/// The member a request names: by `userId`, or by a custom field and its value (1004 when
/// neither, 1005 or 1009 when nobody matches).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MemberWire {
    /// By id.
    ById {
        /// The member's id.
        #[serde(rename = "userId")]
        #[schema(pattern = r"\S")]
        user_id: String,
    },
    /// By a custom field.
    ByCustomField {
        /// The custom field's API name.
        #[serde(rename = "customFieldAPIName")]
        #[schema(pattern = r"\S")]
        custom_field_api_name: String,
        /// Its value: a string or a number (anything else matches nobody: 1009).
        #[serde(rename = "customFieldValue")]
        custom_field_value: Value,
    },
}

/// A status as a request gives it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "Membre", "isActiveMember": true, "startDate": "2021-01-01T00:00:00"}))]
pub struct StatusInputWire {
    /// The status's name (1007 when missing or blank).
    #[schema(pattern = r"\S")]
    pub status: String,
    /// Left null, true exactly when the status is `Membre`.
    #[serde(rename = "isActiveMember")]
    pub is_active_member: Option<bool>,
    /// Start, ISO 8601 (1010 otherwise).
    #[serde(rename = "startDate")]
    pub start_date: Option<String>,
    /// End, ISO 8601, not before the start; empty or null while open.
    #[serde(rename = "endDate")]
    pub end_date: Option<String>,
}

/// A stored status entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusEntryWire {
    /// Its id.
    #[serde(rename = "entryId")]
    pub entry_id: String,
    /// The member's id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The status's name.
    pub status: String,
    /// Whether the member is active in this range.
    #[serde(rename = "isActiveMember")]
    pub is_active_member: bool,
    /// Start.
    #[serde(rename = "startDate")]
    pub start_date: String,
    /// End; null while open.
    #[serde(rename = "endDate")]
    pub end_date: Option<String>,
}

/// The body of `getmemberstatuses`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"userId": "nWJ7HZLyI8l2otoNsxuXgA=="}))]
pub struct MemberStatusesRequestWire {
    /// Whose timeline.
    #[serde(flatten)]
    pub member: MemberWire,
}

/// A member's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberStatusesWire {
    /// Its entries, by start.
    pub statuses: Vec<StatusEntryWire>,
}

/// The body of `updatememberstatuses`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"userId": "nWJ7HZLyI8l2otoNsxuXgA==",
    "statuses": [{"status": "Membre", "startDate": "2020-01-01T00:00:00"}]}))]
pub struct UpdateMemberStatusesRequestWire {
    /// Whose timeline.
    #[serde(flatten)]
    pub member: MemberWire,
    /// The new timeline (1006 when missing).
    pub statuses: Vec<StatusInputWire>,
}

/// The body of `updatememberstatus`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"userId": "nWJ7HZLyI8l2otoNsxuXgA==", "entryId": "e1",
    "status": {"status": "Suspendu"}}))]
pub struct UpdateMemberStatusRequestWire {
    /// Whose timeline.
    #[serde(flatten)]
    pub member: MemberWire,
    /// The entry to change (1008 when missing or unknown).
    #[serde(rename = "entryId")]
    #[schema(pattern = r"\S")]
    pub entry_id: String,
    /// The fields to change.
    pub status: StatusInputWire,
}

/// The body of `changecurrentmemberstatus`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"userId": "nWJ7HZLyI8l2otoNsxuXgA==",
    "status": {"status": "Membre", "startDate": "2021-01-01T00:00:00"}}))]
pub struct ChangeCurrentMemberStatusRequestWire {
    /// Whose timeline.
    #[serde(flatten)]
    pub member: MemberWire,
    /// The new range.
    pub status: StatusInputWire,
}

/// The body of the import: every list optional; upsert by id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "cycles": [{"cycleId": "c1", "adminName": "Règlement", "ruleId": "c1", "isActive": true, "isDeleted": false}],
    "periods": [{"cyclePeriodId": "p1", "cycleId": "c1", "startDate": "2020-01-01T00:00:00Z",
                 "requirements": [{"id": "r1", "type": 1, "targetValue": 40.0}]}],
    "members": [{"userId": "u1", "customFields": {"matricule": "12345"}}],
    "credits": [{"memberId": "u1", "cyclePeriodId": "p1", "kind": "completed", "credits": 22}]
}))]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Cycles.
    pub cycles: Option<Vec<CycleWire>>,
    /// Periods.
    pub periods: Option<Vec<PeriodWire>>,
    /// Members.
    pub members: Option<Vec<ImportMemberWire>>,
    /// Credits.
    pub credits: Option<Vec<ImportCreditWire>>,
}

/// A member to import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportMemberWire {
    /// Its id.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// Its custom fields, by API name.
    #[serde(rename = "customFields")]
    pub custom_fields: Option<BTreeMap<String, TextOrNumber>>,
}

/// A custom field's value: a string, or a number kept as written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TextOrNumber {
    /// A string.
    Text(String),
    /// A number.
    Number(f64),
}

/// The kind of a credit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CreditKindWire {
    /// Credits completed.
    Completed,
    /// Credits exempted.
    Exempted,
    /// Credits from a provider.
    Provider,
}

/// Credits to import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportCreditWire {
    /// The member.
    #[serde(rename = "memberId")]
    pub member_id: String,
    /// The period.
    #[serde(rename = "cyclePeriodId")]
    pub cycle_period_id: String,
    /// `completed`, `exempted` or `provider` (422 otherwise).
    pub kind: CreditKindWire,
    /// How many.
    pub credits: f64,
}

/// What an import loaded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportCounts {
    /// Cycles created or updated.
    pub cycles: usize,
    /// Periods created or updated.
    pub periods: usize,
    /// Members created or updated.
    pub members: usize,
    /// Credits stored.
    pub credits: usize,
}

/// The answer of the import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportAnswer {
    /// Always true.
    #[serde(rename = "isSuccess")]
    pub is_success: bool,
    /// The counts.
    pub imported: ImportCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire problem and summary serialize exactly as the core's types do.
    #[test]
    fn wire_types_serialize_as_the_core_types() {
        let previous =
            br#"[{"codeContrat": "C1", "emailApprenant": "not an email", "couleur": "bleu"}]"#;
        let report = sync_core::validate(&sync_core::parse(previous).unwrap());
        assert!(!report.problems.is_empty());
        for problem in &report.problems {
            assert_eq!(
                serde_json::to_value(problem).unwrap(),
                serde_json::to_value(ProblemWire::from(problem)).unwrap()
            );
        }
        let summary = sync_core::Summary {
            same: 1,
            added: 2,
            updated: 3,
            removed: 4,
        };
        assert_eq!(
            serde_json::to_value(summary).unwrap(),
            serde_json::to_value(SummaryWire::from(summary)).unwrap()
        );
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunKindWire {
    /// A full sync (`POST /api/sync/v2/contrats`).
    Full,
    /// A delta sync (`POST /api/sync/v2/contrats/changes`).
    Changes,
    /// The sandbox delete (`DELETE /api/sync/v1/contrats`).
    Delete,
    /// The revert of an earlier run.
    Revert,
}

impl From<sync_engine::RunKind> for RunKindWire {
    fn from(kind: sync_engine::RunKind) -> Self {
        use sync_engine::RunKind;
        match kind {
            RunKind::Full => RunKindWire::Full,
            RunKind::Changes => RunKindWire::Changes,
            RunKind::Delete => RunKindWire::Delete,
            RunKind::Revert => RunKindWire::Revert,
        }
    }
}

/// How a run ended, or stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcomeWire {
    /// Written.
    Applied,
    /// Refused by validation (422): nothing written.
    Refused,
    /// Stopped by the mass-removal guard and kept for a person to approve or reject.
    Held,
    /// Held, then approved and written.
    Approved,
    /// Held, then rejected.
    Rejected,
    /// Held and not decided within `--hold-for`.
    Expired,
    /// Written, then undone by a revert.
    Reverted,
}

impl From<sync_engine::RunOutcome> for RunOutcomeWire {
    fn from(outcome: sync_engine::RunOutcome) -> Self {
        use sync_engine::RunOutcome;
        match outcome {
            RunOutcome::Applied => RunOutcomeWire::Applied,
            RunOutcome::Refused => RunOutcomeWire::Refused,
            RunOutcome::Held => RunOutcomeWire::Held,
            RunOutcome::Approved => RunOutcomeWire::Approved,
            RunOutcome::Rejected => RunOutcomeWire::Rejected,
            RunOutcome::Expired => RunOutcomeWire::Expired,
            RunOutcome::Reverted => RunOutcomeWire::Reverted,
        }
    }
}

/// A sync run: every full sync, delta sync and sandbox delete, whatever its outcome, and
/// every revert.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"runId": "4f9c2d7e0b1a4c3d8e6f5a4b3c2d1e0f", "kind": "full",
    "receivedAt": "2026-12-07T02:00:00.000Z", "outcome": "held",
    "summary": {"same": 700, "added": 0, "updated": 0, "removed": 300},
    "errors": 0, "warnings": 0, "userAgent": "campus-sync-cli/0.1.0"}))]
pub struct RunWire {
    /// The run's id.
    pub run_id: String,
    /// What started it.
    pub kind: RunKindWire,
    /// When it was received, RFC 3339, UTC.
    pub received_at: String,
    /// How it ended, or stands.
    pub outcome: RunOutcomeWire,
    /// What it did (or, held, would do); zeros for a refused run.
    pub summary: SummaryWire,
    /// Errors found (a refused run's).
    pub errors: u64,
    /// Warnings found.
    pub warnings: u64,
    /// The sender's `User-Agent` header; null when it sent none.
    pub user_agent: Option<String>,
}

/// A time in milliseconds since the Unix epoch, as RFC 3339 in UTC with milliseconds.
pub fn rfc3339(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<&sync_engine::Run> for RunWire {
    fn from(run: &sync_engine::Run) -> Self {
        RunWire {
            run_id: run.id.clone(),
            kind: run.kind.into(),
            received_at: rfc3339(run.received_at),
            outcome: run.outcome.into(),
            summary: run.summary.into(),
            errors: run.errors,
            warnings: run.warnings,
            user_agent: run.user_agent.clone(),
        }
    }
}

/// A page of runs, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunsAnswer {
    /// Every run of the tenant still kept, not only this page.
    pub total: usize,
    /// The page.
    pub runs: Vec<RunWire>,
}

/// How one contract changed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKindWire {
    /// Not active before.
    Added,
    /// Active before, with other values.
    Updated,
    /// Not sent: archived.
    Removed,
}

/// What a run changed (or, held, would change) for one contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"codeContrat": "CT00000001", "change": "updated",
    "fields": [{"field": "nomSite", "old": "Lyon", "new": "Villeurbanne"}]}))]
pub struct RunChangeWire {
    /// The contract's `codeContrat`.
    #[serde(rename = "codeContrat")]
    pub code: String,
    /// Added, updated or removed.
    pub change: ChangeKindWire,
    /// The changed fields of an update, values as sent (null when absent); empty otherwise.
    pub fields: Vec<ChangeWire>,
}

/// A run and a page of what it changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunAnswer {
    /// The run.
    pub run: RunWire,
    /// Every change record of the run, not only this page.
    pub changes_total: usize,
    /// The page of changes, in order: added and updated contracts in the order sent, then
    /// removed ones.
    pub changes: Vec<RunChangeWire>,
    /// A refused run's problems as its 422 listed them (at most 1000); empty otherwise.
    pub problems: Vec<ProblemWire>,
    /// For a held run only: its review page (`/review/{runId}?key=...`, after the server's
    /// `--public-url` when set) with a new key, good for that run's page, approve and reject
    /// until the hold ends. Absent for any other run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(nullable = false)]
    pub review_url: Option<String>,
}

/// The answer of a reject.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectAnswer {
    /// The run, now rejected.
    pub run: RunWire,
}
