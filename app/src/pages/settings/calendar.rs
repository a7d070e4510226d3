//! `/settings/calendar`: the business calendar. Everyone signed in sees a
//! year's closed days (Japanese public holidays and company closures;
//! weekends are always closed) and the closures; administrators add and
//! delete closures. Every form is a plain post, so the page works without
//! JavaScript; `?year=` picks the year.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::calendar::{AddClosure, CalendarView, DeleteClosure, calendar_page},
    components::{
        auth::{LoadError, Protected},
        form::{FieldError, FormAlert, last_error},
        page::{EmptyState, PageHeader},
    },
    i18n::*,
    model::{
        calendar::{CalendarClosure, ClosedDay, ClosedKind},
        user::Role,
    },
};

/// The business calendar page.
#[component]
pub fn CalendarSettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let add = ServerAction::<AddClosure>::new();
    let delete = ServerAction::<DeleteClosure>::new();
    let year = move || query.with(|q| q.get("year")).and_then(|y| y.trim().parse::<i32>().ok());
    let data = Resource::new(
        move || (year(), add.version().get(), delete.version().get()),
        |(year, _, _)| calendar_page(year),
    );
    view! {
        <Protected min=Role::Viewer>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, calendar.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, calendar.intro).to_string())
            />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) => view! { <Calendar page=page add=add delete=delete /> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Calendar(
    page: CalendarView,
    add: ServerAction<AddClosure>,
    delete: ServerAction<DeleteClosure>,
) -> impl IntoView {
    let i18n = use_i18n();
    let year = page.calendar.year;
    let days: Vec<ClosedDay> =
        page.calendar.days.into_iter().filter(|d| d.kind != ClosedKind::Weekend).collect();
    let holidays_off = !page.calendar.japanese_holidays;
    let closures = page.calendar.closures;
    let can_edit = page.can_edit;
    view! {
        <section class="card" data-testid="closed-days">
            <h2>{move || t_string!(i18n, calendar.year_title, year = year).to_string()}</h2>
            <nav class="actions">
                <a class="button button-secondary" href=format!("/settings/calendar?year={}", year - 1)>{t!(i18n, calendar.previous_year)}</a>
                <a class="button button-secondary" href=format!("/settings/calendar?year={}", year + 1)>{t!(i18n, calendar.next_year)}</a>
            </nav>
            <p class="hint">{t!(i18n, calendar.weekends_note)}</p>
            {holidays_off.then(|| view! { <p class="hint">{t!(i18n, calendar.holidays_off)}</p> })}
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, calendar.date)}</th>
                        <th scope="col">{t!(i18n, calendar.reason)}</th>
                    </tr>
                </thead>
                <tbody>
                    {days.into_iter().map(|d| {
                        let date = d.date.format("%Y-%m-%d (%a)").to_string();
                        let kind = d.kind;
                        let (ja, en) = (d.name.clone().unwrap_or_default(), d.name_en.clone());
                        view! {
                            <tr data-testid="closed-day" data-date=d.date.to_string()>
                                <td>{date}</td>
                                <td>
                                    {move || match (kind, i18n.get_locale()) {
                                        (ClosedKind::Holiday, Locale::en) => format!("{} ({})", en.clone().unwrap_or_else(|| ja.clone()), ja),
                                        (ClosedKind::Holiday, _) => ja.clone(),
                                        _ => format!("{}: {}", t_string!(i18n, calendar.closure), ja),
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card" data-testid="closures">
            <h2>{t!(i18n, calendar.closures)}</h2>
            <FormAlert error=last_error(delete.value()) />
            {if closures.is_empty() {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, calendar.closures_empty).to_string()) /> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {closures.into_iter().map(|c| view! { <ClosureItem closure=c can_edit=can_edit delete=delete /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {if can_edit {
                view! { <AddClosureForm add=add /> }.into_any()
            } else {
                view! { <p class="hint">{t!(i18n, calendar.admin_only)}</p> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ClosureItem(
    closure: CalendarClosure,
    can_edit: bool,
    delete: ServerAction<DeleteClosure>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = closure.id;
    let span = if closure.first_day == closure.last_day {
        closure.first_day.to_string()
    } else {
        format!("{} – {}", closure.first_day, closure.last_day)
    };
    view! {
        <li class="server-card" data-testid="closure" data-name=closure.name.clone()>
            <div class="server-head">
                <h3>{closure.name.clone()}</h3>
            </div>
            <p>{span}</p>
            {can_edit.then(|| view! {
                <div class="actions">
                    <details class="confirm">
                        <summary class="button button-danger">{t!(i18n, calendar.delete)}</summary>
                        <ActionForm action=delete attr:class="form">
                            <p>{t!(i18n, calendar.delete_confirm)}</p>
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="button button-danger">{t!(i18n, calendar.delete)}</button>
                        </ActionForm>
                    </details>
                </div>
            })}
        </li>
    }
}

#[component]
fn AddClosureForm(add: ServerAction<AddClosure>) -> impl IntoView {
    let i18n = use_i18n();
    let error = last_error(add.value());
    view! {
        <ActionForm action=add attr:class="form form-grid" attr:data-testid="add-closure">
            <h3 class="span-2">{t!(i18n, calendar.add)}</h3>
            {move || matches!(add.value().get(), Some(Ok(_))).then(|| view! {
                <p class="alert alert-ok span-2" role="status" data-testid="saved">{t!(i18n, calendar.saved)}</p>
            })}
            <FormAlert error=error />
            <div class="field">
                <label for="closure-first">{t!(i18n, calendar.first_day)}</label>
                <input id="closure-first" name="first_day" type="date" required placeholder="2026-12-29" />
                <FieldError error=error field="first_day" />
            </div>
            <div class="field">
                <label for="closure-last">{t!(i18n, calendar.last_day)}</label>
                <input id="closure-last" name="last_day" type="date" required placeholder="2027-01-03" />
                <FieldError error=error field="last_day" />
            </div>
            <div class="field span-2">
                <label for="closure-name">{t!(i18n, calendar.name)}</label>
                <input id="closure-name" name="name" type="text" required maxlength="100" aria-describedby="closure-name-hint" />
                <small id="closure-name-hint" class="hint">{t!(i18n, calendar.name_hint)}</small>
                <FieldError error=error field="name" />
            </div>
            <div class="span-2">
                <button type="submit" class="button" disabled=move || add.pending().get()>{t!(i18n, calendar.add)}</button>
            </div>
        </ActionForm>
    }
}
