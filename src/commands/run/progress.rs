//! The progress line on stderr while a run goes (only on a terminal).

use crate::measure::collector::IntervalSummary;
use crate::measure::overhead::ProcessCpu;
use crate::report::run_table;
use crate::sched::clock::mono_now_ns;

/// The progress bar on stderr (only on a terminal).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::new(1);
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {bar:24} {pos}/{len}s eta {eta}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
            bar
        });
        Progress { bar }
    }

    pub fn stage(&self, prefix: &str, secs: u64) {
        if let Some(b) = &self.bar {
            b.set_prefix(prefix.to_string());
            b.set_length(secs.max(1));
            b.set_position(0);
            b.reset_elapsed();
            b.reset_eta();
            b.set_message("");
        }
    }

    /// Callback for the collector: position, probes/s, lag p99, CPU.
    pub fn on_interval(&self, warmup_s: u64) -> Box<dyn FnMut(&IntervalSummary) + Send> {
        let bar = self.bar.clone();
        let mut last = (mono_now_ns(), ProcessCpu::now());
        Box::new(move |iv: &IntervalSummary| {
            let Some(b) = &bar else { return };
            let now = (mono_now_ns(), ProcessCpu::now());
            let cores = now.1.since(&last.1).own_ns() as f64 / (now.0.saturating_sub(last.0).max(1)) as f64;
            last = now;
            b.set_position(warmup_s + iv.t_s + 1);
            b.set_message(format!(
                "{} probes/s, lag p99 {}, CPU {:.2} cores",
                iv.probes,
                run_table::fmt_us(iv.lag_p99_us),
                cores
            ));
        })
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
