//! Acknowledging a job's problem: the "Acknowledged by …" banner, the
//! operators' form on the job page (acknowledge, withdraw) and the problem
//! in words. The forms post to their server functions, so they work before
//! and without WebAssembly (the server redirects back to the page).

use leptos::prelude::*;

use crate::{
    api::jobs::{AcknowledgeJob, WithdrawAcknowledgement},
    components::{
        form::{FieldError, FormAlert, last_error},
        time::DateTime,
    },
    i18n::*,
    model::job::{Acknowledgement, JobProblem},
};

/// A job's problem in words.
pub fn problem_text(locale: Locale, problem: JobProblem) -> String {
    match problem {
        JobProblem::Failed => td_string!(locale, ack.problems.failed),
        JobProblem::Missed => td_string!(locale, ack.problems.missed),
        JobProblem::Late => td_string!(locale, ack.problems.late),
        JobProblem::Overdue => td_string!(locale, ack.problems.overdue),
        JobProblem::Warning => td_string!(locale, ack.problems.warning),
        JobProblem::RpoBreached => td_string!(locale, ack.problems.rpo_breached),
        JobProblem::Unscheduled => td_string!(locale, ack.problems.unscheduled),
    }
    .to_string()
}

/// "Acknowledged by X at T: comment (until U)".
#[component]
pub fn AckBanner(ack: Acknowledgement) -> impl IntoView {
    let i18n = use_i18n();
    let by = ack.by.clone();
    view! {
        <p class="alert alert-ok" data-testid="ack-banner" role="status">
            {t!(i18n, ack.by, by = by.clone())}
            " "
            <DateTime at=ack.at />
            {ack.comment.clone().map(|c| view! { ": " <q data-testid="ack-comment">{c}</q> })}
            {ack.until.map(|u| view! { " (" {t!(i18n, ack.until_label)} " " <DateTime at=u /> ")" })}
        </p>
    }
}

/// The acknowledgement of a job on its page: the banner, and for operators
/// the form that acknowledges the job's problem (or withdraws it).
#[component]
pub fn AckPanel(
    job_id: i64,
    problem: Option<JobProblem>,
    ack: Option<Acknowledgement>,
    can_operate: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let acknowledge = ServerAction::<AcknowledgeJob>::new();
    let withdraw = ServerAction::<WithdrawAcknowledgement>::new();
    let current = RwSignal::new(ack);
    Effect::new(move || {
        if let Some(Ok(a)) = acknowledge.value().get() {
            current.set(Some(a));
        }
    });
    Effect::new(move || {
        if let Some(Ok(())) = withdraw.value().get() {
            current.set(None);
        }
    });
    let error = Signal::derive(move || {
        last_error(acknowledge.value()).get().or_else(|| last_error(withdraw.value()).get())
    });
    view! {
        <FormAlert error=error />
        {move || match (current.get(), can_operate, problem) {
            (Some(ack), true, _) => view! {
                <div class="ack" data-testid="ack">
                    <AckBanner ack=ack />
                    <ActionForm action=withdraw attr:class="inline">
                        <input type="hidden" name="id" value=job_id />
                        <button type="submit" class="button button-secondary" data-testid="ack-withdraw">{t!(i18n, ack.withdraw)}</button>
                    </ActionForm>
                </div>
            }.into_any(),
            (Some(ack), false, _) => view! { <AckBanner ack=ack /> }.into_any(),
            (None, true, Some(problem)) => view! {
                <details class="confirm" data-testid="ack">
                    <summary class="button button-secondary">{t!(i18n, ack.acknowledge)}</summary>
                    <AckForm job_id=job_id problem=problem action=acknowledge error=error />
                </details>
            }.into_any(),
            (None, _, _) => ().into_any(),
        }}
    }
}

/// The form that acknowledges job `job_id`'s `problem`: comment, until, and
/// the button.
#[component]
pub fn AckForm(
    job_id: i64,
    problem: JobProblem,
    action: ServerAction<AcknowledgeJob>,
    #[prop(into)] error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ActionForm action=action attr:class="form" attr:data-testid="ack-form">
            <input type="hidden" name="id" value=job_id />
            <p class="hint">
                {t!(i18n, ack.problem)} ": "
                <strong data-testid="ack-problem">{move || problem_text(i18n.get_locale(), problem)}</strong>
            </p>
            <label>
                <span>{t!(i18n, ack.comment)}</span>
                <textarea name="comment" maxlength="1000" rows="2" data-testid="ack-comment-input"></textarea>
                <span class="hint">{t!(i18n, ack.comment_hint)}</span>
            </label>
            <FieldError error=error field="comment" />
            <label>
                <span>{t!(i18n, ack.until)}</span>
                <input type="datetime-local" name="until" />
            </label>
            <FieldError error=error field="until" />
            <p class="hint">{t!(i18n, ack.hint)}</p>
            <button type="submit" class="button" data-testid="ack-submit">{t!(i18n, ack.acknowledge)}</button>
        </ActionForm>
    }
}
