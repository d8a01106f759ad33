//! What is being asked for: an article, a book or a chapter, with its
//! identifiers. Field names follow the crosswalk to Alma's
//! `user_resource_sharing_request` (see `shared/reference/ill-domain.md` §4).

use serde::{Deserialize, Serialize};

/// The kind of material. Articles and chapters are copies, books are loans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CitationType {
    Article,
    Book,
    Chapter,
}

impl CitationType {
    pub const ALL: [CitationType; 3] = [Self::Article, Self::Book, Self::Chapter];

    pub fn code(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Book => "book",
            Self::Chapter => "chapter",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Translation key of the type's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Article => "citation.type.article",
            Self::Book => "citation.type.book",
            Self::Chapter => "citation.type.chapter",
        }
    }

    /// Copies (articles, chapters) are delivered and kept; books are lent.
    pub fn is_copy(self) -> bool {
        !matches!(self, Self::Book)
    }
}

/// A citation. `title` is the article or chapter title for copies and the
/// book's title for books; `container_title` is the journal (articles) or
/// the book the chapter is in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub kind: Option<CitationType>,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_publication: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
}

/// A problem with one field, named by the field and a translation key, so
/// the browser can show it next to the field in the patron's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub key: String,
}

impl FieldError {
    pub fn new(field: &str, key: &str) -> Self {
        Self {
            field: field.to_owned(),
            key: key.to_owned(),
        }
    }
}

/// Longest value accepted in any citation field (characters).
pub const MAX_FIELD_CHARS: usize = 2000;

impl Citation {
    /// The authors as Alma wants them: one string, joined with "; ".
    pub fn authors_joined(&self) -> Option<String> {
        (!self.authors.is_empty()).then(|| self.authors.join("; "))
    }

    /// Checks what every adapter needs: a type, a title, sane lengths and a
    /// plausible year. Identifier formats are checked in [`super::identifiers`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.kind.is_none() {
            errors.push(FieldError::new("kind", "error.field.required"));
        }
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("title", "error.field.required"));
        }
        if self.kind == Some(CitationType::Article)
            && self
                .container_title
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            errors.push(FieldError::new("container_title", "error.field.required"));
        }
        let fields: [(&str, Option<&str>); 14] = [
            ("title", Some(self.title.as_str())),
            ("container_title", self.container_title.as_deref()),
            ("volume", self.volume.as_deref()),
            ("issue", self.issue.as_deref()),
            ("pages", self.pages.as_deref()),
            ("year", self.year.as_deref()),
            ("publisher", self.publisher.as_deref()),
            ("place_of_publication", self.place_of_publication.as_deref()),
            ("edition", self.edition.as_deref()),
            ("issn", self.issn.as_deref()),
            ("isbn", self.isbn.as_deref()),
            ("doi", self.doi.as_deref()),
            ("pmid", self.pmid.as_deref()),
            ("authors", None),
        ];
        for (field, value) in fields {
            if value.is_some_and(|v| v.chars().count() > MAX_FIELD_CHARS) {
                errors.push(FieldError::new(field, "error.field.too_long"));
            }
        }
        if self
            .authors
            .iter()
            .map(|a| a.chars().count())
            .sum::<usize>()
            > MAX_FIELD_CHARS
        {
            errors.push(FieldError::new("authors", "error.field.too_long"));
        }
        if let Some(year) = self
            .year
            .as_deref()
            .map(str::trim)
            .filter(|y| !y.is_empty())
        {
            let ok = year.len() == 4 && year.chars().all(|c| c.is_ascii_digit());
            if !ok {
                errors.push(FieldError::new("year", "error.field.year"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article() -> Citation {
        Citation {
            kind: Some(CitationType::Article),
            title: "Life is pretty meaningful".into(),
            container_title: Some("American Psychologist".into()),
            authors: vec!["Heintzelman, Samantha J.".into(), "King, Laura A.".into()],
            year: Some("2014".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_article_is_valid() {
        assert_eq!(article().validate(), Ok(()));
        assert_eq!(
            article().authors_joined().as_deref(),
            Some("Heintzelman, Samantha J.; King, Laura A.")
        );
    }

    #[test]
    fn missing_title_type_and_journal_are_named() {
        let c = Citation {
            year: Some("20x4".into()),
            ..Default::default()
        };
        let errors = c.validate().unwrap_err();
        let fields: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.key.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("kind", "error.field.required"),
                ("title", "error.field.required"),
                ("year", "error.field.year")
            ]
        );
        let mut c = article();
        c.container_title = Some("  ".into());
        assert_eq!(
            c.validate().unwrap_err(),
            vec![FieldError::new("container_title", "error.field.required")]
        );
    }

    #[test]
    fn overlong_fields_are_refused() {
        let mut c = article();
        c.note_too_long();
        assert_eq!(
            c.validate().unwrap_err(),
            vec![FieldError::new("publisher", "error.field.too_long")]
        );
    }

    impl Citation {
        fn note_too_long(&mut self) {
            self.publisher = Some("x".repeat(MAX_FIELD_CHARS + 1));
        }
    }
}
