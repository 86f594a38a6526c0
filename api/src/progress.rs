//! A progress bar on stderr for long CLI jobs (`cms audit verify`, `cms projections rebuild`).
//!
//! On a terminal `indicatif` redraws one line in place (at most ten times a second):
//! `verifying [##########----------]  50%  500000/1000000  41,230/s  ETA 12s`. `indicatif` draws
//! nothing when stderr is not a terminal (CI logs, `2> file`), so there the bar stays hidden and a
//! plain line is printed at every tenth instead, with the same share, count, rate and time left taken
//! from the bar's state, so logs stay readable.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanDuration, HumanFloatCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Redraws per second on a terminal.
const REDRAW_HZ: u8 = 10;
/// The terminal line: label, a 24-cell bar, share, count, rate and time left.
const TEMPLATE: &str = "{prefix} [{bar:24}] {percent:>3}%  {pos}/{len}  {per_sec:0}  ETA {eta}";

/// How the bar reaches the reader.
#[derive(Debug)]
enum Output {
    /// `indicatif` redraws the line in place.
    Terminal,
    /// A plain line per tenth; holds the last tenth printed (-1 before the first).
    Lines { last_tenth: i64 },
}

/// A progress bar for `label`.
#[derive(Debug)]
pub struct Progress {
    label: String,
    bar: ProgressBar,
    output: Output,
}

impl Progress {
    /// Starts a bar (nothing is printed until the first [`Progress::update`]).
    pub fn new(label: impl Into<String>) -> Self {
        let label = label.into();
        let (target, output) = if std::io::stderr().is_terminal() {
            (
                ProgressDrawTarget::stderr_with_hz(REDRAW_HZ),
                Output::Terminal,
            )
        } else {
            (
                ProgressDrawTarget::hidden(),
                Output::Lines { last_tenth: -1 },
            )
        };
        let bar = ProgressBar::with_draw_target(None, target)
            .with_style(style())
            .with_prefix(label.clone());
        Self { label, bar, output }
    }

    /// Reports `done` of `total` (a total below `done`, as when the head moved on, counts as `done`).
    pub fn update(&mut self, done: i64, total: i64) {
        let done = done.max(0);
        let total = total.max(done);
        self.bar.set_length(total.unsigned_abs());
        self.bar.set_position(done.unsigned_abs());
        if let Output::Lines { last_tenth } = &mut self.output {
            let tenth = if total > 0 { done * 10 / total } else { 10 };
            if tenth > *last_tenth {
                *last_tenth = tenth;
                eprintln!(
                    "{}",
                    plain_line(&self.label, done, total, self.bar.per_sec(), self.bar.eta())
                );
            }
        }
    }

    /// Ends the bar, leaving its last line on a terminal.
    pub fn finish(&mut self) {
        if !self.bar.is_finished() {
            self.bar.finish();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The terminal style: [`TEMPLATE`] with `#` for done and `-` for to do.
fn style() -> ProgressStyle {
    // The template is a constant the tests parse, so the fallback is never taken.
    ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#-")
}

/// `label  50%  done/total  rate/s  ETA ..`: the line printed per tenth when stderr is not a terminal.
#[allow(clippy::cast_precision_loss)]
fn plain_line(label: &str, done: i64, total: i64, per_sec: f64, eta: Duration) -> String {
    let fraction = if total > 0 {
        done as f64 / total as f64
    } else {
        1.0
    };
    let left = if done < total {
        format!("ETA {:#}", HumanDuration(eta))
    } else {
        "done".to_owned()
    };
    format!(
        "{label} {:>3.0}%  {done}/{total}  {:.0}/s  {left}",
        fraction * 100.0,
        HumanFloatCount(per_sec)
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use indicatif::ProgressStyle;

    use super::{plain_line, TEMPLATE};

    #[test]
    fn the_terminal_template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }

    #[test]
    fn the_plain_line_shows_share_count_rate_and_time_left() {
        assert_eq!(
            plain_line("verifying", 500, 1_000, 250.0, Duration::from_secs(2)),
            "verifying  50%  500/1000  250/s  ETA 2s"
        );
        assert_eq!(
            plain_line("rebuild", 10, 10, 10.0, Duration::ZERO),
            "rebuild 100%  10/10  10/s  done"
        );
        assert_eq!(
            plain_line("x", 0, 0, 0.0, Duration::ZERO),
            "x 100%  0/0  0/s  done"
        );
        assert_eq!(
            plain_line("big", 41_230, 1_000_000, 41_230.4, Duration::from_secs(23)),
            "big   4%  41230/1000000  41,230/s  ETA 23s"
        );
    }
}
