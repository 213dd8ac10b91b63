//! The checks that look at one contract alone: required fields, dates, emails, the brand.

use crate::contract::Contract;
use crate::field::{Field, FIELD_COUNT};
use crate::parse::Payload;
use crate::problem::{Code, Problem};

use super::date::parse_dd_mm_yyyy;
use super::email::is_plausible_email;

/// Runs of fields that contracts following each other often share (a group and its
/// placement, each tutor), compared a run at a time.
const SHARED_RUNS: [std::ops::Range<usize>; 3] = [
    Field::CodeGroupe.index()..Field::CodeMarque.index(),
    Field::CodePersonnel.index()..Field::CodeMaitreApprentissage.index(),
    Field::CodeMaitreApprentissage.index()..Field::MissionTitle.index(),
];

/// The fields (one bit each, by [`Field::index`]) that `contract` has with the same value as
/// `previous`, as far as one comparison per run of [`SHARED_RUNS`] tells.
pub(super) fn repeated_fields(previous: &Contract<'_>, contract: &Contract<'_>) -> u32 {
    SHARED_RUNS
        .iter()
        .filter(|run| contract.same_block(previous, (*run).clone()))
        .fold(0, |mask, run| {
            mask | ((1u32 << run.end) - (1u32 << run.start))
        })
}

/// The checks that look at one contract alone, whose trimmed values are `values`. The emails
/// of `known_valid` (one bit a field) are those of the contract before, found valid there:
/// they are not checked again. Returns the emails found invalid.
pub(super) fn contract_problems(
    payload: &Payload<'_>,
    index: usize,
    contract: &Contract<'_>,
    values: &[&str; FIELD_COUNT],
    known_valid: u32,
    out: &mut Vec<Problem>,
) -> u32 {
    let value = |field: Field| values[field.index()];
    let empty = values
        .iter()
        .enumerate()
        .fold(0u32, |mask, (i, v)| mask | u32::from(v.is_empty()) << i);
    // The fields to look at, in field order: required ones left empty, dates and emails given.
    let mut attention = (empty & REQUIRED) | (!empty & (DATES | (EMAILS & !known_valid)));
    let (mut start, mut end) = (None, None);
    let mut invalid_emails = 0;
    while attention != 0 {
        let field = Field::ALL[attention.trailing_zeros() as usize];
        attention &= attention - 1;
        let value = value(field);
        if value.is_empty() {
            if !payload.has_type_error(index, field) {
                let message = format!("required field {field} is absent, null or blank");
                out.push(Problem::about(
                    index,
                    contract,
                    field,
                    Code::MissingField,
                    message,
                ));
            }
        } else if field.is_date() {
            let date = parse_dd_mm_yyyy(value);
            if date.is_none() {
                let message = format!("\"{value}\" is not a real date in the DD/MM/YYYY format");
                out.push(Problem::about(
                    index,
                    contract,
                    field,
                    Code::InvalidDate,
                    message,
                ));
            }
            *(if field == Field::DateDebut {
                &mut start
            } else {
                &mut end
            }) = date;
        } else if !is_plausible_email(value) {
            let message = format!("\"{value}\" is not a plausible email address");
            out.push(Problem::about(
                index,
                contract,
                field,
                Code::InvalidEmail,
                message,
            ));
            invalid_emails |= 1 << field.index();
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            let message = format!(
                "dateDebut {} is after dateFin {}",
                value(Field::DateDebut),
                value(Field::DateFin)
            );
            out.push(Problem::about(
                index,
                contract,
                Field::DateDebut,
                Code::DateOrder,
                message,
            ));
        }
    }
    let brand_code = value(Field::CodeMarque);
    let brand_name = value(Field::NomMarque);
    if brand_code.is_empty() != brand_name.is_empty() {
        let (field, message) = if brand_name.is_empty() {
            (
                Field::NomMarque,
                "codeMarque is set but nomMarque is not; send both or neither",
            )
        } else {
            (
                Field::CodeMarque,
                "nomMarque is set but codeMarque is not; send both or neither",
            )
        };
        // A brand part that is there but not a string is already an `invalid_type`.
        if !payload.has_type_error(index, field) {
            out.push(Problem::about(
                index,
                contract,
                field,
                Code::BrandIncomplete,
                message.to_owned(),
            ));
        }
    }
    invalid_emails
}

/// Required fields, dates and emails, as masks (one bit per field, in `Field::index` order).
const REQUIRED: u32 = FIELD_MASKS[0];
const DATES: u32 = FIELD_MASKS[1];
const EMAILS: u32 = FIELD_MASKS[2];
const FIELD_MASKS: [u32; 3] = {
    let mut masks = [0; 3];
    let mut i = 0;
    while i < FIELD_COUNT {
        let field = Field::ALL[i];
        let properties = [field.is_required(), field.is_date(), field.is_email()];
        let mut p = 0;
        while p < 3 {
            if properties[p] {
                masks[p] |= 1 << i;
            }
            p += 1;
        }
        i += 1;
    }
    masks
};
