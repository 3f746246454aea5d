//! What a run shows while it goes, as data: the lines of the plain log (CI, a pipe) for each
//! event and each tick of the clock. The clock is passed in (time since the run started), so
//! tests drive it by hand.
//!
//! Off a terminal, an operation's start and end each get a line; one still running gets a
//! `still creating <name> [10s elapsed]` line every 10 seconds (Terraform's habit), never a
//! stream of dots. On a terminal, finished operations are printed as they end, above a live
//! frame ([`PlainLog::frame`]): one row per operation in flight with its elapsed time, and a
//! status line with the counts.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::execute::{Action, Event};

/// How often a long operation is mentioned again.
const STILL_EVERY: Duration = Duration::from_secs(10);

/// What one run shows.
#[derive(Default)]
pub(crate) struct PlainLog {
    /// Operations in flight: name → (verb, type, when it started, when it was last mentioned).
    in_flight: BTreeMap<String, (Action, String, Duration, Duration)>,
    /// Operations the plan has, finished ones, failed ones.
    total: usize,
    done: usize,
    failed: usize,
    color: bool,
}

/// An action's verb, padded to its column and coloured as the plan colours its kind: creates
/// green, updates yellow, replacements magenta, deletes red, failures bold red.
fn verb(action: Action, color: bool) -> String {
    let style = match action {
        Action::Creating | Action::Created => console::Style::new().green(),
        Action::Updating | Action::Updated | Action::Renamed => console::Style::new().yellow(),
        Action::Replacing | Action::Replaced => console::Style::new().magenta(),
        Action::Deleting | Action::Deleted | Action::DeletedOriginal => console::Style::new().red(),
        Action::Failed => console::Style::new().red().bold(),
        Action::Unchanged => console::Style::new().dim(),
        Action::Reading | Action::Read => console::Style::new().cyan(),
    };
    let text = format!("{:<9}", action.as_str());
    style.force_styling(color).apply_to(text).to_string()
}

/// `12s`, `2m05s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

impl PlainLog {
    /// For a run of `total` operations, in colour or not.
    pub(crate) fn new(total: usize, color: bool) -> PlainLog {
        PlainLog {
            total,
            color,
            ..PlainLog::default()
        }
    }

    /// The lines for `e`, which happened `now` into the run.
    pub(crate) fn event(&mut self, e: &Event, now: Duration) -> Vec<String> {
        if e.action.is_start() {
            let started = (e.action, e.ty.clone(), now, now);
            self.in_flight.insert(e.name.clone(), started);
            return vec![format!(
                "  {} {} ({})",
                verb(e.action, self.color),
                e.name,
                e.ty
            )];
        }
        self.in_flight.remove(&e.name);
        if e.action == Action::Unchanged {
            return Vec::new();
        }
        self.done += 1;
        if e.action == Action::Failed {
            self.failed += 1;
        }
        let mut line = format!(
            "  {} {} ({})  {:.1}s",
            verb(e.action, self.color),
            e.name,
            e.ty,
            e.elapsed.as_secs_f64()
        );
        if let Some(error) = &e.error {
            line += &format!("\n      {error}");
        }
        vec![line]
    }

    /// The lines due `now`: each operation running for another 10 seconds, in name order.
    pub(crate) fn tick(&mut self, now: Duration) -> Vec<String> {
        let mut out = Vec::new();
        for (name, (verb, _, started, said)) in &mut self.in_flight {
            if now.saturating_sub(*said) >= STILL_EVERY {
                *said = now;
                out.push(format!(
                    "  still {} {name} [{} elapsed]",
                    verb.as_str(),
                    seconds(now - *started)
                ));
            }
        }
        out
    }

    /// The live frame `now`: the operations in flight, longest-running first, each with its
    /// elapsed time, then the counts.
    pub(crate) fn frame(&self, now: Duration) -> String {
        let mut rows: Vec<_> = self.in_flight.iter().collect();
        rows.sort_by_key(|(name, (_, _, started, _))| (*started, *name));
        // Under their components, as in the plan.
        crate::tree::group(&mut rows, |(name, _)| name.as_str());
        let mut out = String::new();
        let mut open = Vec::new();
        for (name, (action, ty, started, _)) in rows {
            let indent = crate::tree::enter(&mut out, &mut open, name);
            out += &format!(
                "{indent}  {} {} ({ty})  ({})\n",
                verb(*action, self.color),
                crate::tree::short(name),
                seconds(now.saturating_sub(*started))
            );
        }
        let running = self.in_flight.len();
        let to_go = self.total.saturating_sub(self.done + running);
        let failed = format!("{} failed", self.failed);
        let failed = console::Style::new()
            .red()
            .bold()
            .force_styling(self.color && self.failed > 0)
            .apply_to(failed);
        out += &format!(
            "  {}/{} done · {running} in flight · {to_go} to go · {failed} · {}",
            self.done,
            self.total,
            seconds(now)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, action: Action, elapsed: u64) -> Event {
        Event {
            name: name.into(),
            ty: "aws:lb/LoadBalancer".into(),
            action,
            elapsed: Duration::from_secs(elapsed),
            error: (action == Action::Failed).then(|| {
                format!("deleting '{name}' (aws:ec2/SecurityGroup): DependencyViolation: in use")
            }),
        }
    }

    /// A run with a create that takes minutes, a failure, an update that turns out to change
    /// nothing, and a replacement (its new copy, then its old one deleted).
    fn scripted_run(color: bool) -> String {
        let mut log = PlainLog::new(7, color);
        let mut lines = Vec::new();
        let s = Duration::from_secs;
        let script: Vec<(u64, Option<Event>)> = vec![
            (0, Some(event("lb", Action::Creating, 0))),
            (0, Some(event("tg", Action::Creating, 0))),
            (1, Some(event("tg", Action::Created, 1))),
            (1, Some(event("old-sg", Action::Deleting, 0))),
            (2, Some(event("old-sg", Action::Failed, 1))),
            (3, Some(event("task", Action::Replacing, 0))),
            (4, Some(event("task", Action::Replaced, 1))),
            (4, Some(event("task", Action::Deleting, 0))),
            (5, Some(event("task", Action::DeletedOriginal, 1))),
            (5, None),
            (10, None),
            (15, None),
            (20, None),
            (24, Some(event("listener", Action::Updating, 0))),
            (25, Some(event("listener", Action::Unchanged, 0))),
            (30, None),
            (95, None),
            (96, Some(event("lb", Action::Created, 96))),
            (120, None),
        ];
        for (at, e) in script {
            if let Some(e) = e {
                lines.extend(log.event(&e, s(at)));
            }
            lines.extend(log.tick(s(at)));
        }
        lines.join("\n")
    }

    #[test]
    fn a_scripted_run_logs_starts_ends_and_every_ten_seconds_what_is_still_running() {
        let plain = scripted_run(false);
        insta::assert_snapshot!(plain);
        let colored = scripted_run(true);
        insta::assert_snapshot!("scripted_run_colored", colored);
        assert_eq!(console::strip_ansi_codes(&colored), plain);
    }

    fn frames(color: bool) -> String {
        let mut log = PlainLog::new(6, color);
        let s = Duration::from_secs;
        log.event(&event("lb", Action::Creating, 0), s(0));
        log.event(&event("tg", Action::Creating, 0), s(1));
        log.event(&event("tg", Action::Created, 1), s(2));
        log.event(&event("sg", Action::Deleting, 0), s(3));
        log.event(&event("role", Action::Updating, 0), s(3));
        log.event(&event("role", Action::Failed, 2), s(5));
        log.event(&event("task", Action::Replacing, 0), s(6));
        [s(6), s(12), s(75)].map(|t| log.frame(t)).join("\n--\n")
    }

    #[test]
    fn the_live_frame_shows_components_as_a_tree() {
        let mut log = PlainLog::new(5, false);
        let s = Duration::from_secs;
        for (at, name) in [
            (0, "network/nat"),
            (1, "dns"),
            (2, "app/lb"),
            (3, "network/private/endpoint"),
            (4, "network/public-route"),
        ] {
            log.event(&event(name, Action::Creating, 0), s(at));
        }
        insta::assert_snapshot!(log.frame(s(10)));
    }

    #[test]
    fn the_live_frame_shows_what_is_in_flight_for_how_long_and_the_counts() {
        let plain = frames(false);
        insta::assert_snapshot!(plain);
        let colored = frames(true);
        insta::assert_snapshot!("live_frames_colored", colored);
        assert_eq!(console::strip_ansi_codes(&colored), plain);
    }
}
