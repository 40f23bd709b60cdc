//! Public instance settings (spec/API.md, "Instance settings"): the ticket categories with their
//! guidance, the languages the administrators answer in, the support hours and the expected
//! response time. The support pages show them to anyone before a ticket is written, so they
//! are public and stored in plaintext (they describe the instance, not any ticket: a ticket's
//! category travels encrypted inside its first message). Their shape is the wire crate's
//! [`Settings`]; their limits are checked here.

use axum::http::StatusCode;
use sealdesk_wire::settings::{MAX_IDLE_LOCK_MINUTES, MAX_TARGET_MINUTES, Settings};

use crate::encoding::to_record;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::RecordKind;

/// The key of the public settings in [`RecordKind::Setting`] (the table also holds secrets,
/// such as `prelogin-secret`, which these routes never read).
const PUBLIC_SETTINGS: &[u8] = b"public";

/// Most categories an instance lists.
pub const MAX_CATEGORIES: usize = 50;
/// Longest category name, in characters.
pub const MAX_CATEGORY_NAME: usize = 80;
/// Longest guidance text of one category, in characters.
pub const MAX_GUIDANCE: usize = 2000;
/// Most languages an instance lists.
pub const MAX_LANGUAGES: usize = 30;
/// Longest language name, in characters.
pub const MAX_LANGUAGE: usize = 60;
/// Longest support-hours or response-time text, in characters.
pub const MAX_TEXT: usize = 500;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_settings", message)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Trims every text and checks the limits (see the `MAX_*` constants): category names are
/// not empty and unique (ignoring letter case), languages are not empty and unique.
///
/// # Errors
/// `422 bad_settings` with a sentence naming what is wrong.
pub fn normalise(mut settings: Settings) -> ApiResult<Settings> {
    if settings.categories.len() > MAX_CATEGORIES {
        return Err(invalid(format!(
            "An instance lists at most {MAX_CATEGORIES} categories."
        )));
    }
    let mut names = std::collections::BTreeSet::new();
    for category in &mut settings.categories {
        category.name = category.name.trim().to_owned();
        category.guidance = category.guidance.trim().to_owned();
        if category.name.is_empty() || chars(&category.name) > MAX_CATEGORY_NAME {
            return Err(invalid(format!(
                "A category name is 1 to {MAX_CATEGORY_NAME} characters."
            )));
        }
        if chars(&category.guidance) > MAX_GUIDANCE {
            return Err(invalid(format!(
                "A category's guidance is at most {MAX_GUIDANCE} characters."
            )));
        }
        if !names.insert(category.name.to_lowercase()) {
            return Err(invalid("Two categories have the same name."));
        }
        if category.target_minutes.is_some_and(|m| !target_fits(m)) {
            return Err(invalid(format!(
                "The response-time target of the category {} is 1 to {MAX_TARGET_MINUTES} minutes.",
                category.name
            )));
        }
    }
    if settings.languages.len() > MAX_LANGUAGES {
        return Err(invalid(format!(
            "An instance lists at most {MAX_LANGUAGES} languages."
        )));
    }
    let mut languages = std::collections::BTreeSet::new();
    for language in &mut settings.languages {
        *language = language.trim().to_owned();
        if language.is_empty() || chars(language) > MAX_LANGUAGE {
            return Err(invalid(format!(
                "A language is 1 to {MAX_LANGUAGE} characters."
            )));
        }
        if !languages.insert(language.to_lowercase()) {
            return Err(invalid("A language is listed twice."));
        }
    }
    for (text, what) in [
        (&mut settings.support_hours, "support hours"),
        (&mut settings.response_time, "response time"),
    ] {
        *text = text.trim().to_owned();
        if chars(text) > MAX_TEXT {
            return Err(invalid(format!(
                "The {what} are at most {MAX_TEXT} characters."
            )));
        }
    }
    if settings
        .idle_lock_minutes
        .is_some_and(|minutes| !(1..=MAX_IDLE_LOCK_MINUTES).contains(&minutes))
    {
        return Err(invalid(format!(
            "The idle lock is 1 to {MAX_IDLE_LOCK_MINUTES} minutes."
        )));
    }
    if let Some(targets) = &settings.response_targets {
        for (minutes, what) in [
            (targets.urgent_minutes, "urgent"),
            (targets.normal_minutes, "other"),
        ] {
            if minutes.is_some_and(|m| !target_fits(m)) {
                return Err(invalid(format!(
                    "The response-time target of {what} tickets is 1 to {MAX_TARGET_MINUTES} minutes."
                )));
            }
        }
    }
    Ok(settings)
}

/// Whether a response-time target is within 1 to [`MAX_TARGET_MINUTES`] minutes.
fn target_fits(minutes: u32) -> bool {
    (1..=MAX_TARGET_MINUTES).contains(&minutes)
}

/// The stored settings (empty lists and texts until an administrator saves them).
///
/// # Errors
/// `500 storage` if they do not decode; storage failures.
pub fn load(state: &AppState) -> ApiResult<Settings> {
    match state.store.get(RecordKind::Setting, PUBLIC_SETTINGS)? {
        None => Ok(Settings::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|_| {
            tracing::error!("the stored public settings do not decode");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage",
                "The stored settings are damaged; save them again.",
            )
        }),
    }
}

/// Normalises `settings` ([`normalise`]), stores them and returns what was stored.
///
/// # Errors
/// `bad_settings`, storage failures.
pub async fn replace(state: &AppState, settings: Settings) -> ApiResult<Settings> {
    let settings = normalise(settings)?;
    let bytes = to_record(&settings)?;
    state
        .store
        .put(RecordKind::Setting, PUBLIC_SETTINGS, &bytes, false)?;
    state.commit().await?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use sealdesk_wire::settings::{Category, ResponseTargets};

    use super::*;

    fn category(name: &str, guidance: &str) -> Category {
        Category {
            name: name.into(),
            guidance: guidance.into(),
            target_minutes: None,
        }
    }

    #[test]
    fn trims_and_keeps_order() {
        let settings = normalise(Settings {
            categories: vec![
                category(" Network ", " Say which VPN. "),
                category("Mail", ""),
            ],
            languages: vec![" English".into(), "Deutsch ".into()],
            support_hours: " Mon-Fri ".into(),
            response_time: String::new(),
            idle_lock_minutes: Some(5),
            response_targets: None,
        })
        .unwrap();
        assert_eq!(
            settings.categories,
            vec![category("Network", "Say which VPN."), category("Mail", "")]
        );
        assert_eq!(settings.languages, vec!["English", "Deutsch"]);
        assert_eq!(settings.support_hours, "Mon-Fri");
        assert_eq!(settings.idle_lock_minutes, Some(5));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let refused = |settings: Settings| normalise(settings).unwrap_err().code;
        let empty_name = Settings {
            categories: vec![category("  ", "")],
            ..Settings::default()
        };
        assert_eq!(refused(empty_name), "bad_settings");
        let twice = Settings {
            categories: vec![category("Mail", ""), category("mail", "")],
            ..Settings::default()
        };
        assert_eq!(refused(twice), "bad_settings");
        let long_guidance = Settings {
            categories: vec![category("Mail", &"x".repeat(MAX_GUIDANCE + 1))],
            ..Settings::default()
        };
        assert_eq!(refused(long_guidance), "bad_settings");
        let languages = Settings {
            languages: vec!["English".into(); 2],
            ..Settings::default()
        };
        assert_eq!(refused(languages), "bad_settings");
        let hours = Settings {
            support_hours: "x".repeat(MAX_TEXT + 1),
            ..Settings::default()
        };
        assert_eq!(refused(hours), "bad_settings");
        let many = Settings {
            categories: (0..=MAX_CATEGORIES)
                .map(|i| category(&i.to_string(), ""))
                .collect(),
            ..Settings::default()
        };
        assert_eq!(refused(many), "bad_settings");
        for minutes in [0, MAX_IDLE_LOCK_MINUTES + 1] {
            let idle = Settings {
                idle_lock_minutes: Some(minutes),
                ..Settings::default()
            };
            assert_eq!(refused(idle), "bad_settings", "{minutes}");
        }
        let longest = Settings {
            idle_lock_minutes: Some(MAX_IDLE_LOCK_MINUTES),
            ..Settings::default()
        };
        assert!(normalise(longest).is_ok());
    }

    #[test]
    fn response_targets_are_bounded() {
        let refused = |settings: Settings| normalise(settings).unwrap_err();
        let targets = |urgent, normal| Settings {
            response_targets: Some(ResponseTargets {
                urgent_minutes: urgent,
                normal_minutes: normal,
            }),
            ..Settings::default()
        };
        for minutes in [0, MAX_TARGET_MINUTES + 1] {
            let error = refused(targets(Some(minutes), None));
            assert_eq!(error.code, "bad_settings");
            assert!(error.message.contains("urgent"), "{}", error.message);
            assert!(
                refused(targets(None, Some(minutes)))
                    .message
                    .contains("other")
            );
            let category = Settings {
                categories: vec![Category {
                    target_minutes: Some(minutes),
                    ..category("Mail", "")
                }],
                ..Settings::default()
            };
            assert!(refused(category).message.contains("Mail"));
        }
        let kept = normalise(Settings {
            categories: vec![Category {
                target_minutes: Some(MAX_TARGET_MINUTES),
                ..category("Mail", "")
            }],
            ..targets(Some(1), Some(MAX_TARGET_MINUTES))
        })
        .unwrap();
        assert_eq!(kept.categories[0].target_minutes, Some(MAX_TARGET_MINUTES));
        assert_eq!(kept.response_targets.unwrap().urgent_minutes, Some(1));
        assert!(
            serde_json::from_str::<Settings>(r#"{"response_targets": {"low_minutes": 5}}"#)
                .is_err()
        );
    }

    #[test]
    fn unknown_members_are_refused() {
        assert!(
            serde_json::from_str::<Settings>(r#"{"categories": [], "theme": "dark"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Settings>(r#"{"categories": [{"name": "a", "x": 1}]}"#).is_err()
        );
        let empty: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Settings::default());
    }
}
