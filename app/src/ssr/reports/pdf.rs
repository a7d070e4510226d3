//! The PDF export: A4, Japanese or English, laid out by Typst.

use crate::{i18n::Locale, model::report::Report};

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be made: {0}")]
pub struct PdfError(pub String);

/// Writes `report` as a PDF in `locale`. CPU-bound: call it from
/// `tokio::task::spawn_blocking`.
pub fn render(report: &Report, locale: Locale) -> Result<Vec<u8>, PdfError> {
    let _ = (report, locale);
    todo!("helper A")
}
