"""Settings from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

#: The question bank that comes with the code: `content/` beside the `bot` package (a checkout,
#: an editable install, the Docker image's /app), wherever the command is run from.
PACKAGE_CONTENT = Path(__file__).resolve().parents[2] / "content"


class Settings(BaseSettings):
    """Every setting the bot reads. Names match `.env.example` and the README table."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_base: str | None = Field(default=None, alias="DISCORD_API_BASE")
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    dev_guild: int | None = Field(default=None, alias="BOT_DEV_GUILD")
    db_path: Path = Field(default=Path("data/bot.sqlite3"), alias="BOT_DB")
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
    def has_token(self) -> bool:
        return self.discord_token is not None
