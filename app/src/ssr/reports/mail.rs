//! The e-mail of a scheduled report: the summary (period, filters, totals
//! and the jobs that need attention) as plain text and HTML, in the
//! schedule's language. The PDF goes with it as an attachment.

use crate::{
    i18n::{Locale, td_string},
    model::report::{Report, ReportRow, percent},
};

/// Jobs listed in the body at most (the PDF has them all).
const WORST_LISTED: usize = 5;

/// Subject and both parts of a scheduled report's e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Subject: 「バックアップレポート 2026-11-01〜2026-11-30」.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML (inline styles only).
    pub html: String,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The filters in words ("All jobs" when there are none).
fn filters(report: &Report, locale: Locale) -> String {
    let f = &report.filters;
    let mut parts = vec![];
    if let Some(tag) = &f.tag {
        parts.push(format!("{}: {tag}", td_string!(locale, report_schedules.mail.tag)));
    }
    if let Some(source) = f.source {
        parts.push(format!("{}: {}", td_string!(locale, report_schedules.mail.source), source.as_str()));
    }
    if let Some(server) = &f.veeam_server {
        parts.push(format!("{}: {}", td_string!(locale, report_schedules.mail.server), server.name));
    }
    if !f.jobs.is_empty() {
        let names: Vec<&str> = f.jobs.iter().map(|j| j.name.as_str()).collect();
        parts.push(format!("{}: {}", td_string!(locale, report_schedules.mail.jobs), names.join(", ")));
    }
    if parts.is_empty() {
        parts.push(td_string!(locale, report_schedules.mail.all_jobs).to_string());
    }
    parts.push(format!("{}: {}", td_string!(locale, report_schedules.mail.group_by), f.group_by.as_str()));
    parts.join(" / ")
}

/// The jobs that missed their schedule or failed, worst first.
fn worst(report: &Report) -> Vec<&ReportRow> {
    report
        .jobs
        .iter()
        .filter(|r| r.figures.failed + r.figures.missed > 0 || r.figures.sla.is_some_and(|s| s < 1.0))
        .take(WORST_LISTED)
        .collect()
}

/// The e-mail of `report`, sent by the schedule `schedule_name`.
pub fn summary(report: &Report, schedule_name: &str, locale: Locale, link: &str) -> Summary {
    let from = report.period.from.to_string();
    let until = report.period.until.to_string();
    let subject =
        td_string!(locale, report_schedules.mail.subject, from = from.clone(), until = until.clone())
            .to_string();
    let t = &report.totals;
    let facts: Vec<(String, String)> = vec![
        (td_string!(locale, report_schedules.mail.schedule).to_string(), schedule_name.to_owned()),
        (
            td_string!(locale, report_schedules.mail.period).to_string(),
            format!("{from} – {until} ({})", report.period.time_zone),
        ),
        (td_string!(locale, report_schedules.mail.filters).to_string(), filters(report, locale)),
        (td_string!(locale, report_schedules.mail.job_count).to_string(), report.job_count.to_string()),
        (td_string!(locale, report_schedules.mail.sla).to_string(), percent(t.sla)),
        (td_string!(locale, report_schedules.mail.success_rate).to_string(), percent(t.success_rate)),
        (td_string!(locale, report_schedules.mail.runs).to_string(), t.runs.to_string()),
        (td_string!(locale, report_schedules.mail.failed).to_string(), t.failed.to_string()),
        (td_string!(locale, report_schedules.mail.missed).to_string(), t.missed.to_string()),
    ];
    let worst = worst(report);
    let worst_line = |r: &ReportRow| {
        format!(
            "{} — {} {} / {} {} / {} {}",
            r.name,
            td_string!(locale, report_schedules.mail.sla),
            percent(r.figures.sla),
            td_string!(locale, report_schedules.mail.failed),
            r.figures.failed,
            td_string!(locale, report_schedules.mail.missed),
            r.figures.missed
        )
    };
    let worst_title = td_string!(locale, report_schedules.mail.worst).to_string();
    let no_worst = td_string!(locale, report_schedules.mail.no_worst).to_string();
    let attached = td_string!(locale, report_schedules.mail.attached).to_string();
    let open = td_string!(locale, report_schedules.mail.open).to_string();
    let footer = td_string!(locale, report_schedules.mail.footer).to_string();

    let mut text = format!("{subject}\n\n");
    for (label, value) in &facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!("\n{worst_title}:\n"));
    if worst.is_empty() {
        text.push_str(&format!("  {no_worst}\n"));
    }
    for row in &worst {
        text.push_str(&format!("  - {}\n", worst_line(row)));
    }
    text.push_str(&format!("\n{attached}\n{open}: {link}\n\n-- \n{footer}\n"));

    let rows: String = facts
        .iter()
        .map(|(label, value)| {
            format!(
                "<tr><th align=\"left\" style=\"padding:4px 12px 4px 0;color:#4f5d75;font-weight:normal\">{}</th>\
                 <td style=\"padding:4px 0\">{}</td></tr>",
                escape(label),
                escape(value)
            )
        })
        .collect();
    let worst_html: String = if worst.is_empty() {
        format!("<p>{}</p>", escape(&no_worst))
    } else {
        let items: String = worst.iter().map(|r| format!("<li>{}</li>", escape(&worst_line(r)))).collect();
        format!("<ul>{items}</ul>")
    };
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:system-ui,'Hiragino Sans','Meiryo',sans-serif;color:#152033\">\
         <h1 style=\"font-size:18px\">{title}</h1><table role=\"presentation\">{rows}</table>\
         <h2 style=\"font-size:15px\">{worst_title}</h2>{worst_html}<p>{attached}</p>\
         <p><a href=\"{link}\" style=\"color:#1d4ed8\">{open}</a></p>\
         <p style=\"color:#4f5d75;font-size:12px\">{footer}</p></body></html>",
        title = escape(&subject),
        worst_title = escape(&worst_title),
        attached = escape(&attached),
        link = escape(link),
        open = escape(&open),
        footer = escape(&footer),
    );
    Summary { subject, text, html }
}
