//! A progress bar on stderr for long CLI jobs (`cms audit verify`, `cms projections rebuild`).
//!
//! On a terminal it redraws one line in place:
//! `verifying [##########----------]  50%  500000/1000000  41230/s  ETA 12s`. When stderr is not a
//! terminal (CI logs, `2> file`) it prints a plain line at every tenth instead, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const WIDTH: usize = 24;
/// The least time between two redraws on a terminal.
const REDRAW: Duration = Duration::from_millis(100);

/// A progress bar for `label`.
#[derive(Debug)]
pub struct Progress {
    label: String,
    started: Instant,
    last_draw: Option<Instant>,
    last_tenth: i64,
    terminal: bool,
    drawn: bool,
}

impl Progress {
    /// Starts a bar (nothing is printed until the first [`Progress::update`]).
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            started: Instant::now(),
            last_draw: None,
            last_tenth: -1,
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// Reports `done` of `total`.
    pub fn update(&mut self, done: i64, total: i64) {
        let now = Instant::now();
        if self.terminal {
            let due = self
                .last_draw
                .is_none_or(|last| now.duration_since(last) >= REDRAW);
            if due || done >= total {
                self.last_draw = Some(now);
                self.drawn = true;
                eprint!("\r{}", self.line(done, total, now));
                let _ = std::io::stderr().flush();
            }
        } else {
            let tenth = if total > 0 { done * 10 / total } else { 10 };
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("{}", self.line(done, total, now));
            }
        }
    }

    /// Ends the bar's line (on a terminal).
    pub fn finish(&mut self) {
        if self.terminal && self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }

    /// The bar's text for `done` of `total` at `now`.
    fn line(&self, done: i64, total: i64, now: Instant) -> String {
        render(
            &self.label,
            done,
            total,
            now.duration_since(self.started).as_secs_f64(),
        )
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `label [####----]  50%  done/total  rate/s  ETA ..`, after `elapsed` seconds.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn render(label: &str, done: i64, total: i64, elapsed: f64) -> String {
    let total = total.max(done).max(0);
    let fraction = if total > 0 {
        done.max(0) as f64 / total as f64
    } else {
        1.0
    };
    let filled = ((fraction * WIDTH as f64).round() as usize).min(WIDTH);
    let rate = if elapsed > 0.0 {
        done.max(0) as f64 / elapsed
    } else {
        0.0
    };
    let eta = if rate > 0.0 && done < total {
        format!("ETA {:.0}s", (total - done) as f64 / rate)
    } else {
        "done".to_owned()
    };
    format!(
        "{label} [{}{}] {:>3.0}%  {done}/{total}  {rate:.0}/s  {eta}   ",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        fraction * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn the_bar_shows_share_count_rate_and_time_left() {
        assert_eq!(
            render("verifying", 500, 1_000, 2.0),
            "verifying [############------------]  50%  500/1000  250/s  ETA 2s   "
        );
        assert_eq!(
            render("rebuild", 10, 10, 1.0),
            "rebuild [########################] 100%  10/10  10/s  done   "
        );
        // An empty log, and a head that moved past the total, never overflow the bar.
        assert_eq!(
            render("x", 0, 0, 0.0),
            "x [########################] 100%  0/0  0/s  done   "
        );
        assert!(render("x", 12, 10, 1.0).contains("100%  12/12"));
    }
}
