//! The settings' command-line flags, made from `config::SETTINGS` with
//! clap's builder (one flag per setting, named from its key). A flag's
//! text is read exactly as the setting's environment variable is; a list's
//! flag repeats; a `true or false` flag alone means true (`--demo`), or takes
//! `--demo=false`. Global ones (`--data-dir`) come before the command.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::config::{Layer, SETTINGS, Setting};

/// The settings flags given, as `(index in SETTINGS, values)`; `GLOBAL`
/// picks the flags before the command or those of `serve` and `check`.
#[derive(Clone, Debug, Default)]
pub struct SettingFlags<const GLOBAL: bool> {
    given: Vec<(usize, Vec<String>)>,
}

/// Flags every command takes (`--data-dir`).
pub type GlobalFlags = SettingFlags<true>;
/// Flags of `serve` and `check`.
pub type ServeFlags = SettingFlags<false>;

fn id(s: &Setting) -> String {
    format!("setting.{}", s.path())
}

impl<const GLOBAL: bool> SettingFlags<GLOBAL> {
    fn ours() -> impl Iterator<Item = (usize, &'static Setting)> {
        SETTINGS
            .iter()
            .enumerate()
            .filter(|(_, s)| s.flag.global == GLOBAL)
    }

    /// The layer these flags give.
    pub fn layer(&self) -> anyhow::Result<Layer> {
        let mut layer = Layer::default();
        for (i, values) in &self.given {
            let s = &SETTINGS[*i];
            let raw = values.join(",");
            layer
                .set(s, &raw)
                .map_err(|e| anyhow::anyhow!("--{} {raw:?}: {e}", s.flag_name()))?;
        }
        Ok(layer)
    }
}

impl<const GLOBAL: bool> FromArgMatches for SettingFlags<GLOBAL> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let given = Self::ours()
            .filter_map(|(i, s)| {
                let values = m.get_many::<String>(id(s).as_str())?;
                Some((i, values.cloned().collect()))
            })
            .collect();
        Ok(SettingFlags { given })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl<const GLOBAL: bool> Args for SettingFlags<GLOBAL> {
    fn augment_args(mut cmd: Command) -> Command {
        for (_, s) in Self::ours() {
            let arg = Arg::new(id(s))
                .long(s.flag_name())
                .help(format!("{} [{}: {}]", s.help.trim(), s.env(), s.what))
                .hide(s.flag.hidden)
                .global(GLOBAL)
                .value_name(s.flag_name().replace('-', "_").to_ascii_uppercase());
            let arg = match (s.list, s.alone) {
                (true, _) => arg.action(ArgAction::Append),
                (false, Some(alone)) => arg
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value(alone),
                (false, None) => arg.action(ArgAction::Set),
            };
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
