//! The pages' HTML, from compile-time templates in `templates/` that escape every value
//! they embed (askama, HTML escaping by the `.html` extension).

use askama::Template;

/// What every page shares: its language, its title, and the signed-in bar.
pub(crate) struct Frame<'a> {
    /// `<html lang>`: the language the page is written in.
    pub(crate) lang: &'a str,
    /// The page's title, also its heading.
    pub(crate) title: &'a str,
    /// Who is signed in, with a sign-out button; `None` without a session.
    pub(crate) bar: Option<Bar<'a>>,
}

/// The signed-in bar: "Signed in as …" and the sign-out form.
pub(crate) struct Bar<'a> {
    /// "Signed in as alice", localized.
    pub(crate) signed_in: &'a str,
    /// The session's XSRF token, which sign-out needs.
    pub(crate) xsrf: &'a str,
    /// The sign-out button's label.
    pub(crate) log_out: &'a str,
}

/// `GET /login` and a failed `POST /login`.
#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub(crate) frame: Frame<'a>,
    /// Why the last attempt failed.
    pub(crate) error: Option<&'a str>,
    /// The login form's XSRF token, also in the `XSRF-TOKEN` cookie.
    pub(crate) xsrf: &'a str,
    /// The user name typed last time, kept so it need not be typed again.
    pub(crate) username: &'a str,
    pub(crate) username_label: &'a str,
    pub(crate) password_label: &'a str,
    pub(crate) submit: &'a str,
}

/// How the change form names the user.
pub(crate) enum UsernameField<'a> {
    /// Signed in: a hidden, read-only field for password managers.
    Known(&'a str),
    /// Upstream mode (SPEC §10), where there is no session: a field to type it in, holding
    /// what was typed last time.
    Ask(&'a str),
}

/// The local password policy, for the browser's own checks and in words. Upstream mode has
/// none: NetServer's policy is the one, and the gateway does not know it.
pub(crate) struct PolicyHint<'a> {
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) text: &'a str,
}

/// `GET /password`: the change form, posting to the endpoint.
#[derive(Template)]
#[template(path = "password.html")]
pub(crate) struct PasswordPage<'a> {
    pub(crate) frame: Frame<'a>,
    /// Why the last attempt failed (upstream mode shows the form again).
    pub(crate) error: Option<&'a str>,
    /// The XSRF token of the form, the same value as the `XSRF-TOKEN` cookie.
    pub(crate) xsrf: &'a str,
    pub(crate) username: UsernameField<'a>,
    pub(crate) username_label: &'a str,
    pub(crate) current_label: &'a str,
    pub(crate) new_label: &'a str,
    /// The policy, when the gateway keeps one.
    pub(crate) policy: Option<PolicyHint<'a>>,
    pub(crate) submit: &'a str,
}

/// Whether a result is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// The password was changed.
    Success,
    /// A refusal: the old password, the policy.
    Refusal,
    /// An error with its status line: 401, 429, 503.
    Error,
}

impl Tone {
    /// The message's CSS class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Tone::Success => "success",
            Tone::Refusal | Tone::Error => "error",
        }
    }

    /// The message's ARIA role: an error interrupts, a result is announced.
    pub(crate) fn role(self) -> &'static str {
        match self {
            Tone::Success | Tone::Refusal => "status",
            Tone::Error => "alert",
        }
    }
}

/// The endpoint's answer to a browser: the result of a change, or an error.
#[derive(Template)]
#[template(path = "result.html")]
pub(crate) struct ResultPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) tone: Tone,
    pub(crate) message: &'a str,
    /// Where to go next, and the link's text.
    pub(crate) link: &'a str,
    pub(crate) link_text: &'a str,
    /// The status line, `429 Too Many Requests`, for errors.
    pub(crate) status: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame<'a>(bar: Option<Bar<'a>>) -> Frame<'a> {
        Frame {
            lang: "en",
            title: "Sign <in>",
            bar,
        }
    }

    #[test]
    fn every_value_is_escaped() {
        let page = LoginPage {
            frame: frame(None),
            error: Some("<script>alert(1)</script>"),
            xsrf: "\"><b>",
            username: "a&b'\"",
            username_label: "User",
            password_label: "Password",
            submit: "Go",
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains("\"><b>"), "{page}");
        assert!(
            page.contains("Sign &#60;in&#62;") || page.contains("Sign &lt;in&gt;"),
            "{page}"
        );
        assert!(page.contains("<html lang=\"en\">"), "{page}");
        assert!(page.contains("role=\"alert\""), "{page}");
    }

    #[test]
    fn the_bar_is_shown_when_signed_in() {
        let page = ResultPage {
            frame: frame(Some(Bar {
                signed_in: "Signed in as <alice>",
                xsrf: "tok",
                log_out: "Sign out",
            })),
            tone: Tone::Success,
            message: "Changed.",
            link: "/password",
            link_text: "Back",
            status: None,
        }
        .render()
        .unwrap();
        assert!(page.contains("class=\"who\""), "{page}");
        assert!(!page.contains("<alice>"), "{page}");
        assert!(page.contains("action=\"/logout\""), "{page}");
        assert!(page.contains("value=\"tok\""), "{page}");
        assert!(
            page.contains("class=\"message success\" role=\"status\""),
            "{page}"
        );
        assert!(!page.contains("class=\"status\""), "{page}");
    }

    #[test]
    fn the_change_form_names_the_signed_in_user_for_password_managers() {
        let form = PasswordPage {
            frame: frame(None),
            error: None,
            xsrf: "tok",
            username: UsernameField::Known("alice"),
            username_label: "User",
            current_label: "Current",
            new_label: "New",
            policy: Some(PolicyHint {
                min: 8,
                max: 128,
                text: "Use 8 to 128.",
            }),
            submit: "Change",
        }
        .render()
        .unwrap();
        assert!(form.contains("value=\"alice\" hidden readonly"), "{form}");
        assert!(form.contains("minlength=\"8\" maxlength=\"128\""), "{form}");
    }

    #[test]
    fn the_upstream_form_asks_for_the_user_and_states_no_policy_of_its_own() {
        let form = PasswordPage {
            frame: frame(None),
            error: Some("The user name or password is not correct."),
            xsrf: "tok",
            username: UsernameField::Ask("<bob>"),
            username_label: "User name",
            current_label: "Current",
            new_label: "New",
            policy: None,
            submit: "Change",
        }
        .render()
        .unwrap();
        assert!(
            form.contains("<label for=\"username\">User name</label>"),
            "{form}"
        );
        assert!(
            form.contains("name=\"username\" type=\"text\" autocomplete=\"username\""),
            "{form}"
        );
        assert!(!form.contains("<bob>"), "{form}");
        assert!(!form.contains("hidden readonly"), "{form}");
        assert!(!form.contains("minlength"), "{form}");
        assert!(form.contains("role=\"alert\""), "{form}");
        assert!(form.contains("name=\"XSRF_TOKEN\" value=\"tok\""), "{form}");
    }
}
