//! Supervisor flags and start options (rules 107-108, 149).

use std::time::Duration;

use rotp_gen_server::ServerName;

use crate::child_spec::{ChildSpec, Restart};
use crate::error::{ChildSpecError, FlagsError};

/// Elixir's default `max_restarts` (rule 107).
pub const DEFAULT_MAX_RESTARTS: u32 = 3;
/// Elixir's default `max_seconds` (rule 107).
pub const DEFAULT_MAX_SECONDS: u64 = 5;

/// Which children are restarted when one of them must be (rules 125-127).
///
/// ```text
///            A   B   C   D        C exits
/// one_for_one        C'           only C restarts
/// one_for_all A'  B'  C'  D'      D, B, A stop (reverse order), all restart
/// rest_for_one        C'  D'      D stops, C and D restart in order
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only the child that exited (the default).
    #[default]
    OneForOne,
    /// Stop all other children and restart them all.
    OneForAll,
    /// Stop the children started after the one that exited and restart it
    /// and them.
    RestForOne,
}

/// When significant children shut their supervisor down (rules 149-153).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Never (the default); no child may be significant.
    #[default]
    Never,
    /// As soon as any significant child ends on its own without being
    /// restarted.
    AnySignificant,
    /// Once every significant child has ended on its own.
    AllSignificant,
}

/// Restart intensity: at most `max_restarts` automatic restarts within any
/// window of `period` (rules 134-136). Elixir's defaults: 3 in 5 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts allowed within the window (`max_restarts`; 0: the first
    /// restart gives up).
    pub max_restarts: u32,
    /// The window (`max_seconds`), on the runtime clock.
    pub period: Duration,
}

impl Default for Intensity {
    fn default() -> Self {
        Intensity {
            max_restarts: DEFAULT_MAX_RESTARTS,
            period: Duration::from_secs(DEFAULT_MAX_SECONDS),
        }
    }
}

impl Intensity {
    /// Rule 108: the period must be positive.
    pub(crate) fn validate(&self) -> Result<(), FlagsError> {
        if self.period.is_zero() {
            return Err(FlagsError::InvalidPeriod(self.period));
        }
        Ok(())
    }
}

/// How to start a [`Supervisor`](crate::Supervisor): strategy, intensity,
/// auto-shutdown and an optional registered name.
///
/// ```
/// use rotp_supervisor::{Strategy, SupervisorOptions};
/// let opts = SupervisorOptions::new()
///     .strategy(Strategy::RestForOne)
///     .max_restarts(10)
///     .max_seconds(60)
///     .name("app_sup");
/// assert_eq!(opts.strategy, Strategy::RestForOne);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SupervisorOptions {
    /// The restart strategy; default [`Strategy::OneForOne`].
    pub strategy: Strategy,
    /// The restart intensity; default 3 restarts in 5 s.
    pub intensity: Intensity,
    /// Auto-shutdown; default [`AutoShutdown::Never`].
    pub auto_shutdown: AutoShutdown,
    /// The name to register the supervisor under, if any.
    pub name: Option<ServerName>,
}

impl SupervisorOptions {
    /// The defaults: one_for_one, 3 restarts in 5 s, no auto-shutdown, no
    /// name.
    pub fn new() -> Self {
        SupervisorOptions::default()
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets `max_restarts`.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.intensity.max_restarts = n;
        self
    }

    /// Sets `max_seconds`, the intensity window in whole seconds (must be
    /// positive).
    pub fn max_seconds(mut self, seconds: u64) -> Self {
        self.intensity.period = Duration::from_secs(seconds);
        self
    }

    /// Sets the intensity window with sub-second precision (must be
    /// positive).
    pub fn restart_period(mut self, period: Duration) -> Self {
        self.intensity.period = period;
        self
    }

    /// Sets auto-shutdown.
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Registers the supervisor under `name`: a local name, or a via name
    /// such as a key in a `Registry` (rule 37).
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), FlagsError> {
        self.intensity.validate()
    }
}

/// Rule 149: a significant child must be transient or temporary, and only a
/// supervisor with auto-shutdown may have one.
pub(crate) fn check_significant<E>(
    spec: &ChildSpec<E>,
    auto_shutdown: AutoShutdown,
) -> Result<(), ChildSpecError> {
    if !spec.significant {
        return Ok(());
    }
    if spec.restart == Restart::Permanent {
        return Err(ChildSpecError::SignificantPermanent(spec.id.clone()));
    }
    if auto_shutdown == AutoShutdown::Never {
        return Err(ChildSpecError::SignificantWithoutAutoShutdown(
            spec.id.clone(),
        ));
    }
    Ok(())
}

/// Validates a supervisor's initial children (rule 106): significance and
/// unique ids.
pub(crate) fn check_children(
    children: &[ChildSpec],
    auto_shutdown: AutoShutdown,
) -> Result<(), ChildSpecError> {
    let mut seen = std::collections::HashSet::with_capacity(children.len());
    for spec in children {
        check_significant(spec, auto_shutdown)?;
        if !seen.insert(spec.id.clone()) {
            return Err(ChildSpecError::DuplicateId(spec.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str) -> ChildSpec {
        ChildSpec::worker(id, || Ok(None))
    }

    #[test]
    fn elixir_defaults_rule_107() {
        let o = SupervisorOptions::new();
        assert_eq!(o.strategy, Strategy::OneForOne);
        assert_eq!(o.intensity.max_restarts, 3);
        assert_eq!(o.intensity.period, Duration::from_secs(5));
        assert_eq!(o.auto_shutdown, AutoShutdown::Never);
    }

    #[test]
    fn zero_period_is_invalid_rule_108() {
        let o = SupervisorOptions::new().max_seconds(0);
        assert_eq!(o.validate(), Err(FlagsError::InvalidPeriod(Duration::ZERO)));
        assert!(SupervisorOptions::new().max_restarts(0).validate().is_ok());
    }

    #[test]
    fn duplicate_ids_rule_106() {
        let r = check_children(&[spec("a"), spec("b"), spec("a")], AutoShutdown::Never);
        assert_eq!(r, Err(ChildSpecError::DuplicateId("a".into())));
    }

    #[test]
    fn significant_combinations_rule_149() {
        let permanent = spec("p").significant(true);
        assert_eq!(
            check_significant(&permanent, AutoShutdown::AnySignificant),
            Err(ChildSpecError::SignificantPermanent("p".into()))
        );
        let transient = spec("t").restart(Restart::Transient).significant(true);
        assert_eq!(
            check_significant(&transient, AutoShutdown::Never),
            Err(ChildSpecError::SignificantWithoutAutoShutdown("t".into()))
        );
        assert!(check_significant(&transient, AutoShutdown::AllSignificant).is_ok());
    }
}
