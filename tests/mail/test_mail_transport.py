"""The SMTP settings and one send, against a real SMTP server (aiosmtpd): STARTTLS with a
certificate check and a login, plain SMTP only to a loopback relay, and the password kept
out of every message, error and repr."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from api.mail.transport import _unnamed, parse_smtp_url, send
from api.settings import Settings, SettingsError
from tests.mail.smtp import SmtpServer
from tests.webhooks.test_webhooks_tls import _certificate

PASSWORD = "s3cr%t:p@ss"
QUOTED = "s3cr%25t%3Ap%40ss"
RAW = b"Subject: hello\r\nFrom: noreply@branchline.test\r\nTo: ines@example.com\r\n\r\nHello.\r\n"


def test_the_url_says_how_to_connect():
    c = parse_smtp_url(f"smtp://mailer:{QUOTED}@mail.example.com", allow_plain=False)
    assert (c.security, c.host, c.port, c.username, c.password) == (
        "starttls",
        "mail.example.com",
        587,
        "mailer",
        PASSWORD,
    )
    assert PASSWORD not in repr(c) and PASSWORD not in c.describe()
    assert parse_smtp_url("smtps://mail.example.com", allow_plain=False).port == 465
    assert parse_smtp_url("smtps://mail.example.com", allow_plain=True).security == "tls"
    assert parse_smtp_url("smtp://127.0.0.1:2525", allow_plain=True).security == "plain"


@pytest.mark.parametrize(
    ("url", "allow_plain", "says"),
    [
        ("http://mail.example.com", False, "smtp://"),
        ("smtp://:25", False, "no host"),
        ("smtp://mail.example.com:99999", False, "port"),
        ("smtp://mail.example.com/x", False, "no path"),
        ("smtp://mail.example.com:25", True, "this machine only"),
    ],
)
def test_a_bad_url_is_refused_with_what_to_fix(url, allow_plain, says):
    with pytest.raises(ValueError, match=says):
        parse_smtp_url(url, allow_plain=allow_plain)


def test_settings_refuse_half_a_mail_setup_and_never_show_the_password(tmp_path):
    url = f"smtp://mailer:{QUOTED}@mail.example.com:587"
    with pytest.raises(SettingsError, match="BRANCHLINE_MAIL_FROM"):
        Settings(data_dir=tmp_path, smtp_url=url)
    with pytest.raises(SettingsError, match="bare e-mail address"):
        Settings(data_dir=tmp_path, smtp_url=url, mail_from="Help <help@x.example>")
    with pytest.raises(SettingsError) as refused:
        Settings(
            data_dir=tmp_path,
            smtp_url=f"smtp://mailer:{QUOTED}@relay.example.com:25",
            smtp_allow_plain=True,
            mail_from="noreply@x.example",
        )
    assert "this machine only" in str(refused.value) and PASSWORD not in str(refused.value)
    assert QUOTED not in str(refused.value)
    settings = Settings(data_dir=tmp_path, smtp_url=url, mail_from="noreply@x.example")
    assert settings.smtp() is not None and settings.smtp().password == PASSWORD
    assert QUOTED not in repr(settings) and PASSWORD not in repr(settings)
    assert Settings(data_dir=tmp_path).smtp() is None


@pytest.fixture
def tls_smtp(tmp_path, monkeypatch):
    """A STARTTLS-only server for `localhost` that wants a login; its certificate is trusted
    as the system's CA store would be (SSL_CERT_FILE)."""
    cert, key = _certificate(tmp_path, "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", cert)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    server = SmtpServer(
        tls_context=context, require_starttls=True, authenticator=authenticate, auth_require_tls=True
    ).start()
    yield server
    server.stop()


def test_starttls_with_a_checked_certificate_and_a_login_delivers(tls_smtp):
    config = parse_smtp_url(f"smtp://mailer:{QUOTED}@localhost:{tls_smtp.port}", allow_plain=False)
    sent = send(config, 10, "noreply@branchline.test", "ines@example.com", RAW)
    assert sent.attempt.ok, sent.attempt.error
    assert [m.rcpt_tos for m in tls_smtp.received] == [["ines@example.com"]]


def test_a_refused_login_is_retried_and_its_error_keeps_the_password_out(tls_smtp):
    config = parse_smtp_url(f"smtp://mailer:wrong-{QUOTED}@localhost:{tls_smtp.port}", allow_plain=False)
    sent = send(config, 10, "noreply@branchline.test", "ines@example.com", RAW)
    assert not sent.attempt.ok and not sent.permanent  # the operator fixes the setting; mail waits
    assert "user name or password" in sent.attempt.error and sent.attempt.status_code == 535
    assert PASSWORD not in str(sent) and QUOTED not in str(sent)
    assert tls_smtp.received == []


def test_a_certificate_the_system_does_not_trust_is_refused(tls_smtp, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    config = parse_smtp_url(f"smtp://mailer:{QUOTED}@localhost:{tls_smtp.port}", allow_plain=False)
    sent = send(config, 10, "noreply@branchline.test", "ines@example.com", RAW)
    assert not sent.attempt.ok and "CERTIFICATE_VERIFY_FAILED" in sent.attempt.error
    assert tls_smtp.received == []


def test_a_server_without_starttls_gets_no_mail_in_clear_text():
    plain = SmtpServer().start()
    try:
        config = parse_smtp_url(f"smtp://127.0.0.1:{plain.port}", allow_plain=False)
        sent = send(config, 10, "noreply@branchline.test", "ines@example.com", RAW)
        assert not sent.attempt.ok and not sent.permanent
        assert "does not offer STARTTLS" in sent.attempt.error
        assert plain.received == []
    finally:
        plain.stop()


def test_what_a_workspace_reads_of_a_failure_never_names_the_relay():
    config = parse_smtp_url("smtps://relay%40msp.example:pw@SMTP.Example.net:465", allow_plain=False)
    said = _unnamed(
        config,
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate is not valid for 'smtp.example.net'; "
        "535 relay@msp.example rejected by smtp.example.net ESMTP",
    )
    assert "example.net" not in said.lower() and "relay@msp.example" not in said
    assert "CERTIFICATE_VERIFY_FAILED" in said and "535" in said
