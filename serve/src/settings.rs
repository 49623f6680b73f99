//! A request's settings as the CLIs' own flags: `?window=30&no_group=true` becomes
//! `--window 30 --no-group`, parsed by the same clap structs as `trainer` and `detector`,
//! so a setting means, defaults and is checked exactly as on the command line.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use vigil_cli::train::SettingsError;

use crate::error::Error;

/// Query pairs as flags; `true` or an empty value is a switch, `false` leaves it off.
/// Each value is joined to its flag (`--format=<value>`), so no value is read as a flag;
/// keys are plain setting names, and `config` (a file on the server) is not one: a TOML
/// config comes as a multipart part.
pub fn flags(pairs: &[(String, String)]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for (key, value) in pairs {
        let plain = !key.is_empty()
            && key.len() <= 40
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
        if !plain || key == "config" {
            return Err(Error::BadRequest {
                detail: if key == "config" {
                    "config is not a query setting: send the TOML config as a multipart `config` part".into()
                } else {
                    format!("{key:?} is not a setting name (lowercase letters, digits and '_')")
                },
                field: Some(key.clone()),
                value: None,
            });
        }
        if value == "false" {
            continue;
        }
        let flag = format!("--{}", key.replace('_', "-"));
        if value.is_empty() || value == "true" {
            out.push(flag);
        } else {
            out.push(format!("{flag}={value}"));
        }
    }
    Ok(out)
}

/// A clap error as a problem naming the setting (`window`, not `--window`).
pub fn clap_error(e: clap::Error) -> Error {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let value = match e.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let field = arg.as_ref().map(|a| {
        a.trim_start_matches('-')
            .split([' ', '='])
            .next()
            .unwrap_or("")
            .replace('-', "_")
    });
    let text = e.render().to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("invalid settings")
        .trim_start_matches("error: ")
        .replace("argument", "setting");
    let detail = match e.kind() {
        ErrorKind::UnknownArgument => format!(
            "{first}; the settings are the trainer's or detector's flags, as query parameters (window=30, no_group=true)"
        ),
        _ => first,
    };
    Error::BadRequest {
        detail,
        field,
        value,
    }
}

pub fn settings_error(e: SettingsError) -> Error {
    Error::BadRequest {
        detail: e.to_string(),
        field: match e {
            SettingsError::Config { .. } => Some("config".into()),
            _ => None,
        },
        value: None,
    }
}
