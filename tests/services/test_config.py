"""Settings: TOML file + environment overrides, backend selection, masking, set_value."""

from __future__ import annotations

import stat

import pytest
import tomllib

from services import config
from services.data.backend import LocalBackend, SupabaseBackend, backend_from_settings
from services.errors import ConfigError

KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"  # legacy anon
SERVICE_ROLE = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
PUBLISHABLE = "sb_publishable_Xq3bT7pLm2ZkW9vR4sN1aQ_abcd1234"
SECRET = "sb_secret_Zm9vYmFyYmF6cXV4cXV1eF9zZWNyZXQ1234"


@pytest.fixture
def path(tmp_path):
    return tmp_path / "config" / "config.toml"


def test_nothing_configured_means_the_local_embedded_backend(path):
    settings = config.load(path, env={})
    assert settings.backend_kind == "local"
    assert settings.database_url is None and settings.supabase_url is None
    assert set(settings.sources.values()) == {"default"}
    assert isinstance(backend_from_settings(settings), LocalBackend)


def test_supabase_url_and_key_select_supabase(path):
    settings = config.load(
        path, env={"SUPABASE_URL": "https://abc.supabase.co", "SUPABASE_ANON_KEY": KEY}
    )
    assert settings.backend_kind == "supabase"
    backend = backend_from_settings(settings)
    assert isinstance(backend, SupabaseBackend) and backend.url == "https://abc.supabase.co"


def test_url_without_key_stays_local_but_the_flag_demands_both(path):
    env = {"SUPABASE_URL": "https://abc.supabase.co"}
    assert config.load(path, env=env).backend_kind == "local"
    forced = config.load(path, env=env, supabase=True)
    assert forced.backend_kind == "supabase" and forced.sources["backend"] == "flag"
    with pytest.raises(ConfigError, match="SUPABASE_PUBLISHABLE_KEY"):
        backend_from_settings(forced)


def test_backend_local_in_the_file_wins_over_supabase_settings(path):
    config.set_value("backend", "local", path)
    settings = config.load(
        path, env={"SUPABASE_URL": "https://abc.supabase.co", "SUPABASE_ANON_KEY": KEY}
    )
    assert settings.backend_kind == "local"


def test_environment_overrides_the_file(path):
    config.set_value("model", "from-file", path)
    config.set_value("openai_base_url", "http://127.0.0.1:11434/v1", path)
    settings = config.load(path, env={"LEARN_MODEL": "from-env"})
    assert settings.model == "from-env" and settings.sources["model"] == "env"
    assert settings.openai_base_url == "http://127.0.0.1:11434/v1"
    assert settings.sources["openai_base_url"] == "file"


def test_set_value_writes_a_private_file_atomically(path):
    key, written = config.set_value("SUPABASE_PUBLISHABLE_KEY", PUBLISHABLE, path)
    assert key == "supabase_key" and written == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp files left
    assert tomllib.loads(path.read_text())["supabase_key"] == PUBLISHABLE


@pytest.mark.parametrize(
    "value",
    [
        'quote " and backslash \\ here',
        "tab\tand unicode é ✓",
        "ends with backslash \\",
        "del \x7f char",
        '\'single\' and """triple"""',
    ],
)
def test_values_round_trip_through_toml(path, value):
    config.set_value("model", value, path)
    assert config.load(path, env={}).model == value


def test_setting_an_empty_value_removes_the_key(path):
    config.set_value("model", "m", path)
    config.set_value("model", "", path)
    assert "model" not in tomllib.loads(path.read_text())
    assert config.load(path, env={}).model is None


def test_unknown_keys_are_rejected_with_the_known_ones_listed(path):
    with pytest.raises(ConfigError, match=r"Unknown setting 'supabase_ur'.*supabase_url"):
        config.set_value("supabase_ur", "https://x.supabase.co", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        config.load(path, env={})


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("backend", "cloud", "one of"),
        ("supabase_url", "abc.supabase.co", "http"),
        ("database_url", "mysql://x", "postgresql://"),
        ("model", "two\nlines", "one line"),
    ],
)
def test_invalid_values_are_rejected(path, key, value, match):
    with pytest.raises(ConfigError, match=match):
        config.set_value(key, value, path)
    assert not path.exists()


def test_bad_toml_and_bad_environment_values_say_where(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(path, env={})
    path.write_text("model = 3\n")
    with pytest.raises(ConfigError, match="quoted string"):
        config.load(path, env={})
    path.unlink()
    with pytest.raises(ConfigError, match="SUPABASE_URL"):
        config.load(path, env={"SUPABASE_URL": "not a url"})


def test_a_settings_file_that_is_not_utf8_says_so_in_one_line(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'model = "caf\xe9"\n')  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match=f"{path.name}: not valid TOML"):
        config.load(path, env={})


def test_masked_hides_keys_and_passwords(path):
    settings = config.load(
        path,
        env={
            "SUPABASE_ANON_KEY": KEY,
            "OPENAI_API_KEY": "sk-proj-abcdefghijklmnop1234",
            "DATABASE_URL": "postgresql://learner:s3cret-pw@db.example:5432/learn?sslmode=require",
            "LEARN_MODEL": "llama3",
        },
    )
    shown = settings.masked()
    text = repr(shown)
    for secret in (KEY, "sk-proj-abcdefghijklmnop1234", "s3cret-pw"):
        assert secret not in text
    assert shown["supabase_key"] == f"{KEY[:4]}…{KEY[-4:]}"
    assert (
        shown["database_url"] == "postgresql://learner:****@db.example:5432/learn?sslmode=require"
    )
    assert shown["model"] == "llama3"
    assert shown["supabase_url"] is None


def test_mask_url_handles_password_parameters():
    assert config.mask_url("postgresql://h/db?user=a&password=xyz") == (
        "postgresql://h/db?user=a&password=****"
    )
    assert config.mask_secret("short") == "****"


# -- API keys: publishable, legacy anon; secret keys refused ------------------------------


@pytest.mark.parametrize("var", ["SUPABASE_PUBLISHABLE_KEY", "SUPABASE_KEY", "SUPABASE_ANON_KEY"])
def test_each_key_variable_sets_supabase_key(path, var):
    settings = config.load(path, env={"SUPABASE_URL": "https://abc.supabase.co", var: PUBLISHABLE})
    assert settings.supabase_key == PUBLISHABLE and settings.backend_kind == "supabase"
    assert settings.sources["supabase_key"] == "env"


def test_the_publishable_key_variable_wins_over_the_legacy_one(path):
    settings = config.load(
        path, env={"SUPABASE_ANON_KEY": KEY, "SUPABASE_PUBLISHABLE_KEY": PUBLISHABLE}
    )
    assert settings.supabase_key == PUBLISHABLE


def test_supabase_anon_key_in_the_file_is_read_as_supabase_key(path):
    path.parent.mkdir(parents=True)
    path.write_text(f'supabase_anon_key = "{KEY}"\n')
    assert config.load(path, env={}).supabase_key == KEY
    key, _ = config.set_value("supabase_anon_key", PUBLISHABLE, path)  # the old name works
    assert key == "supabase_key"
    assert tomllib.loads(path.read_text()) == {"supabase_key": PUBLISHABLE}


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (PUBLISHABLE, "publishable"),
        (SECRET, "secret"),
        (KEY, "legacy-anon"),
        (SERVICE_ROLE, "legacy-service-role"),
        ("not-a-key", "unknown"),
        ("eyJ.not-base64!.x", "unknown"),
    ],
)
def test_key_kind_tells_the_kinds_apart(value, kind):
    assert config.key_kind(value) == kind


@pytest.mark.parametrize("value", [SECRET, SERVICE_ROLE])
def test_a_key_that_bypasses_rls_is_refused_in_the_environment(path, value):
    with pytest.raises(ConfigError, match="bypasses Row Level Security") as raised:
        config.load(path, env={"SUPABASE_KEY": value})
    assert "\n" not in str(raised.value) and value not in str(raised.value)
    assert str(raised.value).startswith("SUPABASE_KEY (environment)")


@pytest.mark.parametrize("value", [SECRET, SERVICE_ROLE])
def test_a_key_that_bypasses_rls_is_never_written_to_the_file(path, value):
    with pytest.raises(ConfigError, match="publishable key"):
        config.set_value("supabase_key", value, path)
    assert not path.exists()


def test_a_secret_key_already_in_the_file_is_refused_on_load(path):
    path.parent.mkdir(parents=True)
    path.write_text(f'supabase_key = "{SECRET}"\n')
    with pytest.raises(ConfigError, match="secret key"):
        config.load(path, env={})


def test_masking_a_publishable_key_keeps_its_kind_visible():
    assert config.mask_secret(PUBLISHABLE) == f"sb_publishable_…{PUBLISHABLE[-4:]}"
