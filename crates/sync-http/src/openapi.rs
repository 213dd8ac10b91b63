//! The OpenAPI description, generated from the handlers' annotations.

use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
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
    /// The run a refused (422) or held (409 `mass_removal`) sync was recorded as; absent
    /// from other errors.
    #[serde(rename = "runId", skip_serializing_if = "Option::is_none", default)]
    pub run_id: Option<String>,
    /// For a held sync (409 `mass_removal`): the run's review page, where a person sees what
    /// it would change and approves or rejects it without a token (`/review/{runId}?key=...`,
    /// after the server's `--public-url` when set; the key is good for that run until the
    /// hold ends). Absent from other errors.
    #[serde(rename = "reviewUrl", skip_serializing_if = "Option::is_none", default)]
    pub review_url: Option<String>,
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

/// The answers every route can give beside its own, written once: 401 without a valid bearer
/// token, 503 when the store cannot be written or reached, and, on a route that reads a body,
/// 408 when the body stalls past the read timeout, 413 over the size cap and 415 when it is
/// not sent as JSON.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let reads_body = operation.request_body.is_some();
                let answers = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    answers
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                if secured {
                    add("401", "no valid bearer token (`unauthorized`)");
                }
                if reads_body {
                    add("408", "the body stopped arriving for longer than `--read-timeout` (`request_timeout`)");
                    add(
                        "413",
                        "the body is larger than `--max-body-mb` (`body_too_large`)",
                    );
                    add(
                        "415",
                        "the body is not sent as `application/json` (`not_json`)",
                    );
                }
                add("503", "the store cannot be written or reached: disk full, read-only or busy database (`store_unavailable`); nothing was changed");
            }
        }
    }
}

/// Document 000's routes.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "campus-sync", description = "Contract sync API (document 000) and cycle API (document 004), multi-tenant"),
    paths(
        crate::health::get_health,
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
        crate::runs::get_runs,
        crate::runs::get_run,
        crate::runs::approve,
        crate::runs::reject,
        crate::runs::revert,
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
    modifiers(&Bearer, &CommonAnswers)
)]
pub struct ApiDoc;

/// The description as JSON; other route sets can merge theirs in with
/// `utoipa::openapi::OpenApi::merge`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
