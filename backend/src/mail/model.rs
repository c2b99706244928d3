//! The mails and their texts. Every mail has one shape — a greeting, paragraphs, at most
//! one button-like link, a footer — rendered by `web/templates/mail/mail.{txt,html}` with
//! texts from the catalogues.

use askama::Template;

use crate::i18n::Tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    VerifyEmail,
    ResetPassword,
    AccountApproved,
    DisputeOpened,
    DisputeResolved,
    MerchantInvitation,
    NewOrder,
    DisputeMessage,
}

impl MailKind {
    const ALL: [Self; 8] = [
        Self::VerifyEmail,
        Self::ResetPassword,
        Self::AccountApproved,
        Self::DisputeOpened,
        Self::DisputeResolved,
        Self::MerchantInvitation,
        Self::NewOrder,
        Self::DisputeMessage,
    ];

    /// The kind a stored `mail_outbox.kind` names.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == stored)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::AccountApproved => "account_approved",
            Self::DisputeOpened => "dispute_opened",
            Self::DisputeResolved => "dispute_resolved",
            Self::MerchantInvitation => "merchant_invitation",
            Self::NewOrder => "new_order",
            Self::DisputeMessage => "dispute_message",
        }
    }
}

/// A mail to render: who to, what, and the values its texts name (`{link}`, `{name}`,
/// `{reference}`, `{amount}`).
pub struct Letter<'a> {
    pub kind: MailKind,
    pub tr: Tr,
    pub to: &'a str,
    pub name: &'a str,
    /// The absolute link of the mail's action, if it has one.
    pub link: Option<String>,
    pub args: Vec<(&'a str, String)>,
    /// Values that are catalogue keys, translated into the mail's language.
    pub keyed_args: Vec<(&'a str, &'static str)>,
}

#[derive(Template)]
#[template(path = "mail/mail.txt")]
struct TextBody<'a> {
    greeting: &'a str,
    paragraphs: &'a [String],
    action: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "mail/mail.html")]
struct HtmlBody<'a> {
    lang: &'a str,
    subject: &'a str,
    greeting: &'a str,
    paragraphs: &'a [String],
    action: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

/// A rendered mail.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Letter<'_> {
    fn keys(&self) -> (&'static str, &'static [&'static str], Option<&'static str>) {
        match self.kind {
            MailKind::VerifyEmail => (
                "mail.verify_subject",
                &["mail.verify_body"],
                Some("mail.verify_action"),
            ),
            MailKind::ResetPassword => (
                "mail.reset_subject",
                &["mail.reset_body", "mail.reset_ignore"],
                Some("mail.reset_action"),
            ),
            MailKind::AccountApproved => (
                "mail.approved_subject",
                &["mail.approved_body"],
                Some("mail.approved_action"),
            ),
            MailKind::DisputeOpened => (
                "mail.dispute_opened_subject",
                &["mail.dispute_opened_body"],
                Some("mail.dispute_action"),
            ),
            MailKind::DisputeResolved => (
                "mail.dispute_resolved_subject",
                &["mail.dispute_resolved_body"],
                Some("mail.dispute_action"),
            ),
            MailKind::DisputeMessage => (
                "mail.dispute_message_subject",
                &["mail.dispute_message_body"],
                Some("mail.dispute_action"),
            ),
            MailKind::NewOrder => (
                "mail.new_order_subject",
                &["mail.new_order_body", "mail.new_order_optout"],
                Some("mail.dispute_action"),
            ),
            MailKind::MerchantInvitation => (
                "mail.invite_subject",
                &["mail.invite_body", "mail.invite_expiry"],
                Some("mail.invite_action"),
            ),
        }
    }

    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let (subject_key, paragraph_keys, action_key) = self.keys();
        let mut args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        args.extend(self.keyed_args.iter().map(|(k, key)| (*k, self.tr.t(key))));
        args.push(("name", self.name));
        if let Some(link) = &self.link {
            args.push(("link", link));
        }
        let subject = self.tr.fmt(subject_key, &args);
        let paragraphs: Vec<String> = paragraph_keys
            .iter()
            .map(|k| self.tr.fmt(k, &args))
            .collect();
        let greeting = self.tr.fmt("mail.greeting", &args);
        let footer = self.tr.t("mail.footer");
        let action_label = action_key.map(|k| self.tr.t(k));
        let action = match (action_label, &self.link) {
            (Some(label), Some(link)) => Some((label, link.as_str())),
            _ => None,
        };
        let text = TextBody {
            greeting: &greeting,
            paragraphs: &paragraphs,
            action,
            footer,
        }
        .render()?;
        let html = HtmlBody {
            lang: self.tr.lang().code(),
            subject: &subject,
            greeting: &greeting,
            paragraphs: &paragraphs,
            action,
            footer,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}
