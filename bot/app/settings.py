"""Settings from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.app.shards import ShardPlan
from bot.storage.location import DEFAULT_SQLITE, DbLocation, parse_location, redact

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

#: The question bank that comes with the code: `content/` beside the `bot` package (a checkout,
#: an editable install, the Docker image's /app), wherever the command is run from.
PACKAGE_CONTENT = Path(__file__).resolve().parents[2] / "content"


class Settings(BaseSettings):
    """Every setting the bot reads. Names match `.env.example` and the README table."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # A bad BOT_DB may hold a password: a validation error never repeats the value.
        hide_input_in_errors=True,
    )

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_base: str | None = Field(default=None, alias="DISCORD_API_BASE")
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    dev_guild: int | None = Field(default=None, alias="BOT_DEV_GUILD")
    # An SQLite file, or a postgresql:// URL (which may hold a password: never shown whole;
    # read it through `database`, whose `shown` hides the password).
    db: str = Field(default=str(DEFAULT_SQLITE), alias="BOT_DB", repr=False)
    # PostgreSQL: the connections the process keeps open (each answer holds one briefly).
    db_pool_size: int = Field(default=10, ge=1, le=100, alias="BOT_DB_POOL_SIZE")
    content_dir: Path = Field(default=PACKAGE_CONTENT, alias="BOT_CONTENT")
    log_level: LogLevel = Field(default="INFO", alias="BOT_LOG_LEVEL")
    # The console's log file (JSON lines at BOT_LOG_LEVEL); without it, warnings on stderr.
    log_file: Path | None = Field(default=None, alias="BOT_LOG_FILE")
    demo_workers: int = Field(default=1, ge=1, le=8, alias="BOT_DEMO_WORKERS")
    demo_timeout_s: float = Field(default=30.0, gt=0, alias="BOT_DEMO_TIMEOUT")
    demo_cooldown_s: float = Field(default=30.0, ge=0, alias="BOT_DEMO_COOLDOWN")
    demo_queue_cap: int = Field(default=4, ge=1, alias="BOT_DEMO_QUEUE")
    # `python -m bot health`: unhealthy when the bot's last gateway heartbeat is older than this.
    health_max_age_s: float = Field(default=120.0, gt=0, alias="BOT_HEALTH_MAX_AGE")
    # How often the running bot records that heartbeat (while connected and ready).
    heartbeat_every_s: float = Field(default=20.0, gt=0, le=300, alias="BOT_HEARTBEAT_EVERY")
    # Shards (several processes, one PostgreSQL database): the bot's total and this process's.
    shard_count: int | None = Field(default=None, alias="BOT_SHARD_COUNT")
    shard_ids: str | None = Field(default=None, alias="BOT_SHARD_IDS")

    @field_validator("discord_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator(
        "discord_api_base", "discord_gateway_url", "dev_guild", "log_file", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("db", mode="before")
    @classmethod
    def _db_is_a_path_or_a_postgres_url(cls, value: object) -> object:
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, str):
            if not value.strip():  # `BOT_DB=` in .env
                return str(DEFAULT_SQLITE)
            parse_location(value)  # BadLocation (a ValueError): one line, no password
        return value

    @field_validator("content_dir", mode="before")
    @classmethod
    def _empty_content_is_the_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():  # `BOT_CONTENT=` in .env
            return PACKAGE_CONTENT
        return value

    @field_validator("heartbeat_every_s")
    @classmethod
    def _heartbeat_within_max_age(cls, value: float, info: ValidationInfo) -> float:
        max_age = info.data.get("health_max_age_s")
        if max_age is not None and value >= max_age:
            raise ValueError(f"must be shorter than BOT_HEALTH_MAX_AGE ({max_age:g} s)")
        return value

    @property
    def database(self) -> DbLocation:
        """Where the data lives: an SQLite file or a PostgreSQL database (see `shown`)."""
        return parse_location(self.db)

    @property
    def secrets(self) -> list[str]:
        """What the logs must never show: the token, the database URL and its password."""
        found = [self.discord_token.get_secret_value()] if self.discord_token else []
        database = self.database
        if database.url is not None and database.password:
            found += [database.url, database.password]
        return found

    @field_validator("shard_count", "shard_ids", mode="before")
    @classmethod
    def _empty_shards_are_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("shard_count")
    @classmethod
    def _shard_count_in_range(cls, value: int | None) -> int | None:
        ShardPlan.from_settings(value, None)  # BadShards (a ValueError): one line
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_within_count(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "shard_count" in info.data:  # else the count itself was bad
            ShardPlan.from_settings(info.data["shard_count"], value)
        return value

    @property
    def shards(self) -> ShardPlan | None:
        """The shards this process runs; None without shard settings (one process, all)."""
        return ShardPlan.from_settings(self.shard_count, self.shard_ids)

    @property
    def has_token(self) -> bool:
        return self.discord_token is not None


def configuration_problems(error: ValidationError) -> list[str]:
    """One line per bad setting, `NAME: why`, for people: without pydantic's "Value error, "
    and with any database password hidden."""
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"])
        why = str(item["msg"]).removeprefix("Value error, ")
        problems.append(redact(f"{name}: {why}"))
    return problems
