//! The plain (no colour) text log line, as `tracing-subscriber`'s default format writes it
//! with ANSI off, byte for byte, but cheaper: its field visitor wraps every field name and
//! `=` in a terminal style even when styles are off, its line writes the level, the spans'
//! names and the target through terminal styles too, and its clock formats the time through
//! eight `write!` calls. At one access line per request, all three showed in the cheapest
//! request's profile (docs/PERFORMANCE.md). A terminal keeps the default, coloured format.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::field::{RecordFields, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Lines as the default `Format<Full>` writes them without ANSI: the time and a space, the
/// level right-aligned in five columns and a space, each span of the event's scope from the
/// root as `name{fields}:` and a space after the last, the target and `: `, the fields, a
/// newline. Events from the `log` crate are written with their own level and target, as
/// the default writes them.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PlainLine<T = UtcMicros> {
    timer: T,
}

impl<S, N, T> FormatEvent<S, N> for PlainLine<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if self.timer.format_time(&mut writer).is_err() {
            writer.write_str("<unknown time>")?;
        }
        writer.write_str(match *meta.level() {
            Level::TRACE => " TRACE ",
            Level::DEBUG => " DEBUG ",
            Level::INFO => "  INFO ",
            Level::WARN => "  WARN ",
            Level::ERROR => " ERROR ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// Fields as `DefaultFields` writes them without ANSI: the message first as text, then
/// `name=value` with `Debug` values (strings quoted), separated by single spaces; `r#`
/// prefixes dropped, `log.*` fields (the `log` crate's metadata) skipped.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = PlainVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct PlainVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Writes the separator and the name, or returns `false` for a field not written.
    fn begin(&mut self, name: &str) -> bool {
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        let first = std::mem::replace(&mut self.is_empty, false);
        self.result = write_name(&mut self.writer, first, name);
        self.result.is_ok()
    }
}

/// The separator before all but the first field, then `name=` (nothing for the message).
fn write_name(writer: &mut Writer<'_>, first: bool, name: &str) -> fmt::Result {
    if !first {
        writer.write_char(' ')?;
    }
    if name != "message" {
        writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
        writer.write_char('=')?;
    }
    Ok(())
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else if self.begin(field.name()) {
            self.result = write_quoted(&mut self.writer, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.begin(field.name()) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.begin(field.name()) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.begin(field.name()) {
            self.result = write_f64(&mut self.writer, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.begin(field.name()) {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.begin(field.name()) {
            let escape = self.writer.sanitizes_ansi_escapes();
            self.result = write_error(&mut self.writer, escape, field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.begin(field.name()) {
            return;
        }
        // A message may carry what a client sent: no terminal escapes from it.
        let escape = field.name() == "message" && self.writer.sanitizes_ansi_escapes();
        self.result = write_text(&mut self.writer, escape, format_args!("{value:?}"));
    }
}

/// An error as the default writes it: the error, then `name.sources=[a, b]` when it has
/// sources.
fn write_error(
    writer: &mut Writer<'_>,
    escape: bool,
    name: &str,
    error: &(dyn std::error::Error + 'static),
) -> fmt::Result {
    write_text(writer, escape, format_args!("{error}"))?;
    let Some(first) = error.source() else {
        return Ok(());
    };
    let name = name.strip_prefix("r#").unwrap_or(name);
    write!(writer, " {name}.sources=[")?;
    let mut source = Some(first);
    let mut separator = "";
    while let Some(error) = source {
        writer.write_str(separator)?;
        write_text(writer, escape, format_args!("{error}"))?;
        separator = ", ";
        source = error.source();
    }
    writer.write_char(']')
}

/// Writes `text`, through [`Escaping`] when `escape`.
fn write_text(writer: &mut Writer<'_>, escape: bool, text: fmt::Arguments<'_>) -> fmt::Result {
    if escape {
        Escaping(writer).write_fmt(text)
    } else {
        writer.write_fmt(text)
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// `value` as `{:?}` writes it, with a shortcut for a whole number of thousandths under
/// 10^15 (the access line's `duration_ms`, microseconds in milliseconds): its digits,
/// without the float formatting, some 400 instructions of a logged request (issue 17).
/// Such a number is the double nearest to a decimal of at most 15 significant digits, and
/// that decimal is its shortest round trip, which `{:?}` writes, with at least one decimal.
fn write_f64(writer: &mut Writer<'_>, value: f64) -> fmt::Result {
    let thousandths = (value * 1000.0).round();
    if !(value.is_sign_positive() && thousandths < 1e15 && thousandths / 1000.0 == value) {
        return write!(writer, "{value:?}");
    }
    let thousandths = thousandths as u64;
    // Written from the end: the decimals without trailing zeros (one at least), the point,
    // the whole part's at most 12 digits.
    let mut text = [0u8; 16];
    let mut at = text.len();
    let mut put = |byte: u8| {
        at -= 1;
        text[at] = byte;
    };
    let mut fraction = thousandths % 1000;
    let mut decimals = 3;
    while decimals > 1 && fraction.is_multiple_of(10) {
        fraction /= 10;
        decimals -= 1;
    }
    for _ in 0..decimals {
        put(b'0' + (fraction % 10) as u8);
        fraction /= 10;
    }
    put(b'.');
    let mut whole = thousandths / 1000;
    loop {
        put(b'0' + (whole % 10) as u8);
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    writer.write_str(std::str::from_utf8(&text[at..]).map_err(|_| fmt::Error)?)
}

/// `value` as `{:?}` writes a string, with a shortcut for the usual case of nothing to
/// escape: printable ASCII without quotes or backslashes.
fn write_quoted(writer: &mut Writer<'_>, value: &str) -> fmt::Result {
    if value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        writer.write_char('"')?;
        writer.write_str(value)?;
        writer.write_char('"')
    } else {
        write!(writer, "{value:?}")
    }
}

/// Writes through, escaping the characters a terminal would act on, as the default format
/// escapes messages.
struct Escaping<'a, 'b>(&'a mut Writer<'b>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let plain = |c: char| {
            !matches!(
                c,
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' | '\u{80}'..='\u{9f}'
            )
        };
        if s.chars().all(plain) {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            match c {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The time as the default format writes it, RFC 3339 in UTC with microseconds
/// (`2026-12-01T16:36:14.123456Z`), written digit by digit.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UtcMicros;

impl FormatTime for UtcMicros {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let text = rfc3339_micros(SystemTime::now());
        w.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// `time` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`; before 1970, the epoch.
fn rfc3339_micros(time: SystemTime) -> [u8; 27] {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    let mut out = [0u8; 27];
    let mut put = |at: usize, value: u64, width: usize| {
        let mut value = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, of_day / 3600, 2);
    put(14, of_day / 60 % 60, 2);
    put(17, of_day % 60, 2);
    put(20, u64::from(since.subsec_micros()), 6);
    for (at, separator) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        out[at] = separator;
    }
    out
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on and after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[derive(Debug)]
    struct Failure(&'static str, Option<Box<Failure>>);

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Failure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    /// Every kind of event the service logs, and the awkward values.
    fn events() {
        let path = "/api/v1/Agents/User/ChangeOwnPassword";
        let none: Option<f64> = None;
        tracing::info!(
            request_id = %"0000002a-0",
            method = %"POST",
            path = %path,
            status = 401u16,
            request_media_type = %"application/json",
            outcome = "Unauthorized",
            duration_ms = 0.052,
            upstream_status = none,
            upstream_ms = Some(12.5),
            "request"
        );
        tracing::info!(
            user = "bj\u{f6}rn \"b\" \\ \u{1b}[31m",
            outcome = "changed",
            "password change"
        );
        tracing::warn!(
            r#type = "x",
            count = -3i64,
            big = u64::MAX,
            on = true,
            off = false,
            zero = 0.0,
            negative_zero = -0.0,
            whole = 2.0,
            half = 1.5,
            tiny = 1e-7,
            long = 123_456_789.001,
            fine = 0.1234,
            nan = f64::NAN,
            infinite = f64::INFINITY,
            "flags"
        );
        tracing::warn!(
            "a message with \u{1b}[2J, \u{7} and \u{85} and {} inside",
            "an argument"
        );
        let deep = Failure(
            "outer",
            Some(Box::new(Failure(
                "middle \u{1b}",
                Some(Box::new(Failure("inner", None))),
            ))),
        );
        let error: &(dyn std::error::Error + 'static) = &deep;
        tracing::warn!(error, "could not do it");
        let alone = Failure("alone", None);
        let error: &(dyn std::error::Error + 'static) = &alone;
        tracing::error!(error, "failed");
        tracing::error!(error = %deep, debug = ?Some("x"), "displayed");
        let span = tracing::info_span!("request", id = 7, name = "quoted \"n\"");
        let _inside = span.enter();
        tracing::info!(bytes = 10usize, "inside a span");
        tracing::info!("");
    }

    /// What `subscriber`, writing to the buffer it is given, writes for [`events`].
    fn written<S>(subscriber: impl FnOnce(Buffer) -> S, events: impl FnOnce()) -> String
    where
        S: Subscriber + Send + Sync + 'static,
    {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber(buffer.clone()), events);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn lines_of<N>(fields: N) -> String
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        written(
            |buffer| {
                tracing_subscriber::fmt()
                    .with_ansi(false)
                    .without_time()
                    .with_max_level(tracing::Level::TRACE)
                    .fmt_fields(fields)
                    .with_writer(move || buffer.clone())
                    .finish()
            },
            events,
        )
    }

    /// One time for every line, so that two formatters' lines can be compared whole.
    #[derive(Debug, Clone, Copy)]
    struct Fixed;

    impl FormatTime for Fixed {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("2026-12-01T16:36:14.123456Z")
        }
    }

    /// [`events`], then records of the `log` crate at every level, as its bridge passes them.
    fn events_and_log_records() {
        events();
        for level in [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ] {
            tracing_log::format_trace(
                &log::Record::builder()
                    .args(format_args!("from the log crate at {level}"))
                    .level(level)
                    .target("actix_server::worker")
                    .module_path_static(Some("actix_server::worker"))
                    .file_static(Some("src/worker.rs"))
                    .line(Some(42))
                    .build(),
            )
            .unwrap();
        }
        let span = tracing::debug_span!("outer", n = 1);
        let _outer = span.enter();
        let inner = tracing::trace_span!("inner");
        let _inner = inner.enter();
        tracing::error!(depth = 2, "inside two spans, one without fields");
    }

    #[test]
    fn plain_lines_are_what_the_default_format_writes_without_colours() {
        let default = written(
            |buffer| {
                tracing_subscriber::fmt()
                    .with_ansi(false)
                    .with_timer(Fixed)
                    .with_max_level(tracing::Level::TRACE)
                    .fmt_fields(PlainFields)
                    .with_writer(move || buffer.clone())
                    .finish()
            },
            events_and_log_records,
        );
        let ours = written(
            |buffer| {
                tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::TRACE)
                    .fmt_fields(PlainFields)
                    .event_format(PlainLine { timer: Fixed })
                    .with_writer(move || buffer.clone())
                    .finish()
            },
            events_and_log_records,
        );
        assert_eq!(ours.lines().count(), 15, "{ours}");
        for (ours, default) in ours.lines().zip(default.lines()) {
            assert_eq!(ours, default);
        }
        assert_eq!(ours, default);
        assert!(
            ours.contains(" WARN actix_server::worker: from the log crate at WARN\n"),
            "{ours}"
        );
        assert!(
            ours.contains("INFO request{id=7 name=\"quoted \\\"n\\\"\"}: "),
            "{ours}"
        );
        assert!(ours.contains("ERROR outer{n=1}:inner: "), "{ours}");
    }

    #[test]
    fn plain_fields_write_what_the_default_writes_without_colours() {
        let ours = lines_of(PlainFields);
        let default = lines_of(tracing_subscriber::fmt::format::DefaultFields::new());
        assert_eq!(ours.lines().count(), 9, "{ours}");
        for (ours, default) in ours.lines().zip(default.lines()) {
            assert_eq!(ours, default);
        }
        assert_eq!(ours, default);
        assert!(!ours.contains('\u{1b}'), "{ours}");
        assert!(
            ours.contains(r#"outcome="Unauthorized" duration_ms=0.052"#),
            "{ours}"
        );
        assert!(
            ours.contains("error=outer error.sources=[middle \\x1b, inner]"),
            "{ours}"
        );
    }

    #[test]
    fn floats_are_written_as_debug_writes_them() {
        let written = |value: f64| {
            let mut text = String::new();
            write_f64(&mut Writer::new(&mut text), value).unwrap();
            text
        };
        let mut thousandths: Vec<u64> = (0..300_000).collect();
        // Larger ones up to the shortcut's bound, and just past it.
        let mut n = 300_000u64;
        while n < 2_000_000_000_000_000 {
            thousandths.extend([n - 1, n, n + 1, n + 999]);
            n = n * 7 / 5 + 13;
        }
        for n in thousandths {
            let value = n as f64 / 1000.0;
            assert_eq!(written(value), format!("{value:?}"), "{n} thousandths");
        }
        for value in [
            -0.0,
            -1.5,
            0.1234,
            0.0005,
            1e-7,
            1e15,
            1e16,
            123_456_789_012.345_67,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(written(value), format!("{value:?}"), "{value:e}");
        }
    }

    #[test]
    fn the_time_is_rfc_3339_in_utc_with_microseconds() {
        let utc = jiff::tz::TimeZone::UTC;
        // Every 7,777,777.123457 s from 1970 to past 2400: leap years, century years, month ends.
        let step = Duration::new(7_777_777, 123_457_000);
        let mut at = UNIX_EPOCH;
        for _ in 0..1_800 {
            let since = at.duration_since(UNIX_EPOCH).unwrap();
            let timestamp =
                jiff::Timestamp::new(since.as_secs() as i64, since.subsec_nanos() as i32).unwrap();
            let t = timestamp.to_zoned(utc.clone());
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.subsec_nanosecond() / 1000
            );
            assert_eq!(std::str::from_utf8(&rfc3339_micros(at)).unwrap(), expected);
            at += step;
        }
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&rfc3339_micros(leap_day), b"2000-02-29T00:00:00.000000Z");
        assert_eq!(&rfc3339_micros(UNIX_EPOCH), b"1970-01-01T00:00:00.000000Z");
    }
}
