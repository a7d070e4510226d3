//! `/repositories`: every backup repository synced from Veeam, with
//! capacity, used and free space as bars, a low-space warning and how free
//! space changed over the last 30 days.

use leptos::prelude::*;

use crate::{
    api::veeam::{SetRepositoryThreshold, list_repositories},
    components::{
        auth::{LoadError, Protected, use_current_user},
        form::{FormAlert, last_error},
        live::use_live_refresh,
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::{
        user::Role,
        veeam::{Repository, SpaceSample},
    },
};

/// The repositories page.
#[component]
pub fn RepositoriesPage() -> impl IntoView {
    let i18n = use_i18n();
    let refresh = use_live_refresh();
    let threshold = ServerAction::<SetRepositoryThreshold>::new();
    let repositories =
        Resource::new(move || (refresh.get(), threshold.version().get()), |_| list_repositories());
    let me = use_current_user().0;
    let can_operate = Signal::derive(move || {
        me.get().and_then(|r| r.ok().flatten()).is_some_and(|m| m.user.role >= Role::Operator)
    });
    let error = last_error(threshold.value());
    view! {
        <Protected min=Role::Viewer>
            <PageHeader title=Signal::derive(move || t_string!(i18n, veeam.repositories.title).to_string()) />
            <FormAlert error=error />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match repositories.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState message=Signal::derive(move || t_string!(i18n, veeam.repositories.empty).to_string()) />
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="repository-grid" data-testid="repositories">
                                {list.into_iter().map(|r| view! { <RepositoryCard r=r can_operate=can_operate action=threshold /> }).collect_view()}
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

/// GB as GB or TB with one decimal.
pub fn format_gb(gb: f64) -> String {
    if gb >= 1000.0 { format!("{:.1} TB", gb / 1000.0) } else { format!("{gb:.1} GB") }
}

#[component]
fn RepositoryCard(
    r: Repository,
    can_operate: Signal<bool>,
    action: ServerAction<SetRepositoryThreshold>,
) -> impl IntoView {
    let id = r.id;
    let i18n = use_i18n();
    let used_share =
        if r.capacity_gb > 0.0 { (r.used_gb / r.capacity_gb * 100.0).clamp(0.0, 100.0) } else { 0.0 };
    let percent = format!("{:.0}", r.free_percent);
    let threshold = r.warning_free_percent;
    let low = r.low_space;
    view! {
        <section class="card repository" class:repository-low=low data-testid="repository" data-name=r.name.clone()>
            <div class="server-head">
                <h2>{r.name.clone()}</h2>
                <span class="badge">{r.kind.clone()}</span>
                {(!r.online).then(|| view! { <span class="badge badge-failed">{t!(i18n, veeam.repositories.offline)}</span> })}
            </div>
            <p class="muted">{r.server_name.clone()} {r.path.clone().map(|p| format!(" · {p}"))}</p>
            // An SVG rather than a styled div: the CSP allows no inline styles.
            <svg class="space-bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img"
                aria-label=format!("{} / {}", format_gb(r.used_gb), format_gb(r.capacity_gb))>
                <rect class="space-track" x="0" y="0" width="100" height="6" rx="3" />
                <rect class="space-used" class:space-low=low x="0" y="0" width=format!("{used_share:.2}") height="6" rx="3" />
            </svg>
            <dl class="space-facts">
                <div><dt>{t!(i18n, veeam.repositories.capacity)}</dt><dd>{format_gb(r.capacity_gb)}</dd></div>
                <div><dt>{t!(i18n, veeam.repositories.used)}</dt><dd>{format_gb(r.used_gb)}</dd></div>
                <div><dt>{t!(i18n, veeam.repositories.free)}</dt><dd data-testid="free">{format_gb(r.free_gb)}</dd></div>
            </dl>
            <p class:warning-text=low data-testid="free-percent">
                {t!(i18n, veeam.repositories.free_percent, percent = percent.clone())}
                {low.then(|| view! { " · " <strong>{t!(i18n, veeam.repositories.low, threshold = threshold)}</strong> })}
            </p>
            <h3>{t!(i18n, veeam.repositories.history)}</h3>
            <FreeSpaceChart samples=r.history.clone() threshold=threshold />
            <p class="hint"><DateTime at=r.updated_at /></p>
            {move || can_operate.get().then(|| view! {
                <ActionForm action=action attr:class="form inline-form threshold-form">
                    <input type="hidden" name="id" value=id />
                    <label>
                        <span>{t!(i18n, veeam.repositories.threshold_label)}</span>
                        <input type="number" name="warning_free_percent" min="1" max="90" value=threshold required />
                    </label>
                    <button type="submit" class="button button-secondary">{t!(i18n, veeam.repositories.threshold_save)}</button>
                </ActionForm>
            })}
        </section>
    }
}

/// Free space per day as a line over the capacity, with the warning level.
#[component]
fn FreeSpaceChart(samples: Vec<SpaceSample>, threshold: i64) -> impl IntoView {
    const W: f64 = 320.0;
    const H: f64 = 90.0;
    const PAD: f64 = 6.0;
    let capacity = samples.iter().map(|s| s.capacity_gb).fold(0.0_f64, f64::max).max(1.0);
    let n = samples.len();
    let x = move |i: usize| if n <= 1 { W / 2.0 } else { PAD + i as f64 * (W - 2.0 * PAD) / (n - 1) as f64 };
    let y = move |gb: f64| H - PAD - (gb / capacity).clamp(0.0, 1.0) * (H - 2.0 * PAD);
    let points: String = samples
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:.1},{:.1}", x(i), y(s.free_gb)))
        .collect::<Vec<_>>()
        .join(" ");
    let warn = y(capacity * threshold as f64 / 100.0);
    let label =
        samples.iter().map(|s| format!("{}: {}", s.day, format_gb(s.free_gb))).collect::<Vec<_>>().join(", ");
    view! {
        <svg class="chart space-chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
            <line class="grid warn-line" x1=PAD y1=warn x2=W - PAD y2=warn />
            <polyline class="space-line" points=points fill="none" />
            {samples.iter().enumerate().map(|(i, s)| view! {
                <circle class="space-dot" cx=x(i) cy=y(s.free_gb) r="2.5"><title>{format!("{}: {}", s.day, format_gb(s.free_gb))}</title></circle>
            }).collect_view()}
        </svg>
    }
}
