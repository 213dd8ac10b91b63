//! The OpenAPI description, generated from the handlers' annotations.

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// `{"code", "message", "details"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine code: `invalid_json`, `unauthorized`, `mass_removal`...
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// Problem objects (`{"index", "codeContrat", "field", "code", "message"}` for contracts).
    pub details: Vec<serde_json::Value>,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Document 000's routes.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "campus-sync", description = "Contract sync API (document 000) and cycle API (document 004), multi-tenant"),
    paths(
        crate::contracts::token_check,
        crate::contracts::post_contracts,
        crate::contracts::post_changes,
        crate::contracts::post_diff,
        crate::contracts::get_integrated,
        crate::contracts::get_transmitted,
        crate::contracts::delete_contracts,
        crate::contracts::get_models,
        crate::contracts::put_models,
        crate::calendar::post_calendar,
        crate::calendar::get_calendar,
        crate::absences::post_absences,
        crate::absences::get_absences,
        crate::cycle::get_list,
        crate::cycle::get_period_list,
        crate::cycle::get_user_progress,
        crate::cycle::get_member_statuses,
        crate::cycle::update_member_statuses,
        crate::cycle::update_member_status,
        crate::cycle::change_current_member_status,
        crate::cycle::import,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// The description as JSON; other route sets can merge theirs in with
/// `utoipa::openapi::OpenApi::merge`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
