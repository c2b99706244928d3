//! Message catalogues for pages and mail: English and Simplified Chinese.
//!
//! One TOML file per language under `web/i18n/` (tables give the key prefix:
//! `[desk] title = "Desk"` is `desk.title`), embedded in the binary. A page's language is
//! the `otcpay_lang` cookie (set by the language switch), else the best match of
//! `Accept-Language`, else English. `{name}` placeholders are filled by [`Tr::fmt`].
//! A test fails when a key is missing from a catalogue or used nowhere.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;

pub const LANG_COOKIE: &str = "otcpay_lang";

/// Each language's catalogue: the shared file plus one file per console, joined (their
/// tables must not repeat, or the catalogue does not parse and the tests fail).
pub const CATALOGUES: &[(Lang, &str)] = &[
    (
        Lang::En,
        concat!(
            include_str!("../../web/i18n/en.toml"),
            "\n",
            include_str!("../../web/i18n/admin.en.toml"),
            "\n",
            include_str!("../../web/i18n/merchant.en.toml"),
        ),
    ),
    (
        Lang::ZhCn,
        concat!(
            include_str!("../../web/i18n/zh-CN.toml"),
            "\n",
            include_str!("../../web/i18n/admin.zh-CN.toml"),
            "\n",
            include_str!("../../web/i18n/merchant.zh-CN.toml"),
        ),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag (`lang` attribute, cookie value).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    pub fn parse(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "en" || tag.starts_with("en-") {
            Some(Self::En)
        } else if tag == "zh" || tag.starts_with("zh-") {
            Some(Self::ZhCn)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranked: Vec<(u16, Self)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Self::parse(parts.next()?)?;
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                // Thousandths, to sort without floats.
                Some(((quality.clamp(0.0, 1.0) * 1000.0) as u16, lang))
            })
            .filter(|(q, _)| *q > 0)
            .collect();
        ranked.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
        ranked.first().map(|(_, lang)| *lang)
    }

    /// The language of a page request: cookie, then `Accept-Language`, then English.
    pub fn of(req: &HttpRequest) -> Self {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Self::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Self::from_accept_language)
            })
            .unwrap_or_default()
    }
}

/// Flattens a parsed catalogue into `section.key` → text.
fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            toml::Value::Table(inner) => flatten(&full, inner, out),
            // A catalogue is strings in tables; anything else is a broken file, which the
            // catalogue test reports.
            _ => {}
        }
    }
}

/// A catalogue parsed; a file that does not parse is empty (and fails the tests).
pub fn parse_catalogue(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Ok(table) = text.parse::<toml::Table>() {
        flatten("", &table, &mut out);
    }
    out
}

fn catalogue(lang: Lang) -> &'static HashMap<String, String> {
    static PARSED: OnceLock<Vec<(Lang, HashMap<String, String>)>> = OnceLock::new();
    let all = PARSED.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(lang, text)| (*lang, parse_catalogue(text)))
            .collect()
    });
    static EMPTY: OnceLock<HashMap<String, String>> = OnceLock::new();
    all.iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, map)| map)
        .unwrap_or_else(|| EMPTY.get_or_init(HashMap::new))
}

/// The translator of one language, handed to templates.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; a missing key shows itself (and fails the catalogue test).
    pub fn t<'k>(&self, key: &'k str) -> &'k str {
        match catalogue(self.0).get(key) {
            Some(text) => text.as_str(),
            None => {
                tracing::warn!(key, lang = self.0.code(), "message missing from catalogue");
                key
            }
        }
    }

    /// The text of `key` with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn lang(&self) -> Lang {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, en-GB;q=0.7, zh;q=0.5"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.2, zh-TW;q=0.9"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("zh;q=0"), None);
    }

    /// Every file under `dir` with one of `extensions`, as text.
    fn sources(dir: &std::path::Path, extensions: &[&str], out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, extensions, out);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The catalogues have the same keys, every key is used by a template or the code,
    /// and every key the templates and the code ask for exists.
    #[test]
    fn catalogues_are_complete_and_every_key_is_used() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let english = parse_catalogue(CATALOGUES[0].1);
        assert!(!english.is_empty(), "en.toml parses");
        for (lang, text) in CATALOGUES {
            let catalogue = parse_catalogue(text);
            let missing: Vec<_> = english
                .keys()
                .filter(|k| !catalogue.contains_key(*k))
                .collect();
            let extra: Vec<_> = catalogue
                .keys()
                .filter(|k| !english.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(
                extra.is_empty(),
                "{} has keys English lacks: {extra:?}",
                lang.code()
            );
            assert!(
                catalogue.values().all(|v| !v.trim().is_empty()),
                "{}: empty text",
                lang.code()
            );
        }
        let mut files = Vec::new();
        sources(&root.join("web/templates"), &["html", "txt"], &mut files);
        sources(&root.join("web/static"), &["js"], &mut files);
        sources(&root.join("backend/src"), &["rs"], &mut files);
        files.retain(|(path, _)| !path.ends_with("i18n.rs"));
        let unused: Vec<_> = english
            .keys()
            .filter(|key| {
                !files
                    .iter()
                    .any(|(_, text)| text.contains(&format!("\"{key}\"")))
            })
            .collect();
        assert!(
            unused.is_empty(),
            "keys no template or code uses: {unused:?}"
        );
        // Keys asked for with a literal, `.t("…")` / `.fmt("…"` in templates and code.
        for (path, text) in &files {
            for marker in [".t(\"", ".fmt(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let key = &rest[..rest.find('"').unwrap_or(0)];
                    if key.contains('.') && !key.contains(' ') {
                        assert!(
                            english.contains_key(key),
                            "{path} asks for {key:?}, which en.toml lacks"
                        );
                    }
                }
            }
        }
    }
}
