"""What every command line tool here does alike."""

from __future__ import annotations

from typing import Any

import typer


def payload_or_exit(model: Any, **fields: Any) -> Any:
    """The contract message from command line values, or each problem on stderr and exit 2."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "input"
            typer.echo(f"{where}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
