//! [`Workload`]: a handle on one registered workload, which the rest of eddy passes around
//! without naming any; and [`WorkloadFlags`], every workload's flags on one command line.

use super::{Context, Spec, ALL};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::Schema;
use crate::sim::driver::Driver;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use clap::{ArgMatches, FromArgMatches};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;

/// [`Spec`] without its types: options travel as the JSON object `results.json` stores.
pub trait Erased: Send + Sync {
    /// [`Spec::name`].
    fn name(&self) -> &'static str;
    /// [`Spec::about`].
    fn about(&self) -> &'static str;
    /// [`Spec::defaults`].
    fn defaults(&self, contract: Contract) -> RunDefaults;
    /// [`Spec::schemas`].
    fn schemas(&self) -> &'static [&'static [Schema]];
    /// [`Spec::script`].
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script;
    /// Adds the workload's flags to `eddy test`, under a heading of its own.
    fn augment(&self, command: clap::Command) -> clap::Command;
    /// [`Spec::options`], from parsed flags, as JSON.
    fn options(
        &self,
        matches: &ArgMatches,
        context: &Context,
    ) -> Result<Map<String, Value>, String>;
    /// [`Spec::driver`].
    fn driver(&self, run: &WorkloadOptions) -> Result<Box<dyn Driver>, String>;
    /// [`Spec::checks`].
    fn checks(&self, run: &WorkloadOptions, record: &Record) -> Result<Vec<CheckResult>, String>;
    /// [`Spec::pictures`].
    fn pictures(&self, record: &Record, checks: &[CheckResult], dir: &Path) -> Vec<String>;
    /// [`Spec::reproduce`].
    fn reproduce(&self, cfg: &SimConfig) -> Vec<String>;
}

/// The workload's own options out of a run's options.
fn own<S: Spec>(spec: &S, run: &WorkloadOptions) -> Result<S::Options, String> {
    serde_json::from_value(Value::Object(run.own.clone())).map_err(|e| {
        format!(
            "the run's options do not fit the {} workload: {e}",
            Spec::name(spec)
        )
    })
}

impl<S: Spec> Erased for S {
    fn name(&self) -> &'static str {
        Spec::name(self)
    }
    fn about(&self) -> &'static str {
        Spec::about(self)
    }
    fn defaults(&self, contract: Contract) -> RunDefaults {
        Spec::defaults(self, contract)
    }
    fn schemas(&self) -> &'static [&'static [Schema]] {
        Spec::schemas(self)
    }
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        Spec::script(self, rng, ops, contract)
    }
    fn augment(&self, command: clap::Command) -> clap::Command {
        let before = command.get_next_help_heading().map(str::to_owned);
        let heading = format!("{} options", Spec::name(self));
        let command = <S::Flags as clap::Args>::augment_args(command.next_help_heading(heading));
        match before {
            Some(heading) => command.next_help_heading(heading),
            None => command.next_help_heading(None::<&'static str>),
        }
    }
    fn options(
        &self,
        matches: &ArgMatches,
        context: &Context,
    ) -> Result<Map<String, Value>, String> {
        let flags = S::Flags::from_arg_matches(matches).map_err(|e| e.to_string())?;
        let options = Spec::options(self, flags, context)?;
        match serde_json::to_value(options).expect("options serialize") {
            Value::Object(map) => Ok(map),
            other => panic!(
                "{}'s options must serialize as an object, not {other}",
                Spec::name(self)
            ),
        }
    }
    fn driver(&self, run: &WorkloadOptions) -> Result<Box<dyn Driver>, String> {
        Ok(Spec::driver(self, &own(self, run)?, run))
    }
    fn checks(&self, run: &WorkloadOptions, record: &Record) -> Result<Vec<CheckResult>, String> {
        Ok(Spec::checks(self, &own(self, run)?, run, record))
    }
    fn pictures(&self, record: &Record, checks: &[CheckResult], dir: &Path) -> Vec<String> {
        Spec::pictures(self, record, checks, dir)
    }
    fn reproduce(&self, cfg: &SimConfig) -> Vec<String> {
        match own(self, &cfg.workload_options) {
            Ok(options) => Spec::reproduce(self, &options, cfg),
            Err(_) => Vec::new(),
        }
    }
}

/// A registered workload. Two handles are equal when they name the same workload.
#[derive(Clone, Copy)]
pub struct Workload(&'static dyn Erased);

impl Workload {
    /// The workload registered as `name`.
    pub fn named(name: &str) -> Option<Workload> {
        ALL.iter().find(|w| w.name() == name).map(|&w| Workload(w))
    }

    /// Every registered workload, in registry order.
    pub fn all() -> impl Iterator<Item = Workload> {
        ALL.iter().map(|&w| Workload(w))
    }

    /// The value parser of `-w`/`--workload`: the registered names.
    pub fn parser() -> impl clap::builder::TypedValueParser<Value = Workload> {
        use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
        let names = ALL
            .iter()
            .map(|w| PossibleValue::new(w.name()).help(w.about()));
        PossibleValuesParser::new(names)
            .map(|name: String| Workload::named(&name).expect("a possible value is registered"))
    }

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The run shape and fault mix `eddy test` uses when a flag is not given.
    pub fn defaults(self, contract: Contract) -> RunDefaults {
        let mut defaults = self.0.defaults(contract);
        defaults.faults.sort_unstable();
        defaults
    }

    /// Required fields of the workload's messages.
    pub fn schemas(self) -> &'static [&'static [Schema]] {
        self.0.schemas()
    }

    /// A random single-node script of `ops` requests with the replies the model expects.
    pub fn script(self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        self.0.script(rng, ops, contract)
    }

    /// The run's own options from `eddy test`'s parsed flags; a flag of another workload
    /// given on the command line is an error naming it.
    pub fn options(
        self,
        flags: &WorkloadFlags,
        context: &Context,
    ) -> Result<Map<String, Value>, String> {
        for other in Workload::all().filter(|w| *w != self) {
            let command = other.0.augment(clap::Command::new("eddy"));
            for arg in command.get_arguments() {
                let given = flags.0.value_source(arg.get_id().as_str())
                    == Some(clap::parser::ValueSource::CommandLine);
                if given {
                    return Err(format!(
                        "--{} is an option of the {other} workload, not of {self}",
                        arg.get_long().unwrap_or(arg.get_id().as_str())
                    ));
                }
            }
        }
        self.0.options(&flags.0, context)
    }

    /// The workload's side of a simulated run: its clients' operations and the peers eddy
    /// plays for it.
    pub fn driver(self, run: &WorkloadOptions) -> Result<Box<dyn Driver>, String> {
        self.0.driver(run)
    }

    /// The workload's own checks over a run's record.
    pub fn checks(
        self,
        run: &WorkloadOptions,
        record: &Record,
    ) -> Result<Vec<CheckResult>, String> {
        self.0.checks(run, record)
    }

    /// Draws the workload's pictures into `dir`; their paths.
    pub fn pictures(self, record: &Record, checks: &[CheckResult], dir: &Path) -> Vec<String> {
        self.0.pictures(record, checks, dir)
    }

    /// The workload's flags that run the same schedule again.
    pub fn reproduce(self, cfg: &SimConfig) -> Vec<String> {
        self.0.reproduce(cfg)
    }
}

impl PartialEq for Workload {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Workload {}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Workload({})", self.name())
    }
}

impl serde::Serialize for Workload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Workload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Workload::named(&name).ok_or_else(|| {
            let known: Vec<&str> = Workload::all().map(Workload::name).collect();
            serde::de::Error::custom(format!(
                "`{name}` is not a workload (known: {})",
                known.join(", ")
            ))
        })
    }
}

/// Every workload's flags, for `eddy test`: each under its own heading in `--help`; only
/// the chosen workload's are read (see [`Workload::options`]).
#[derive(Debug, Clone)]
pub struct WorkloadFlags(ArgMatches);

impl FromArgMatches for WorkloadFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(WorkloadFlags(matches.clone()))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0 = matches.clone();
        Ok(())
    }
}

impl clap::Args for WorkloadFlags {
    fn augment_args(command: clap::Command) -> clap::Command {
        ALL.iter().fold(command, |c, w| w.augment(c))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}
