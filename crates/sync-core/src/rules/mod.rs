//! The rules of a server's sync routes beyond validate and diff, one module each: the
//! `/contrats/changes` merge, the mass-removal guard, session models (integrated contracts),
//! absence items and calendar events.
//!
//! Values in, values out, like the rest of the core: the caller loads the active set and the
//! models, and decides what to do with a refusal.

mod absences;
mod calendar;
mod changes;
mod guard;
mod session_models;

pub use absences::{check_absences, Absence, AbsenceKind, AbsenceProblem};
pub use calendar::CalendarEvent;
pub use changes::{merge_changes, ChangeCode, ChangeList, ChangeProblem, Changes, Merged};
pub use guard::{guard_mass_removal, MassRemoval, MASS_REMOVAL_MIN_ACTIVE, MASS_REMOVAL_PERCENT};
pub use session_models::{check_session_models, is_integrated, SessionModel};
