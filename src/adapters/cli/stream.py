"""``gridcore stream ...``: the Kafka side, used when ``KAFKA_BROKER`` (host:port) is set.

- ``worker``: the faust worker (camera and vehicle agents, their tables) and the event-feed
  relay, until SIGTERM or Ctrl-C;
- ``feed``: the event-feed relay alone (``--once``: publish what is there and exit);
- ``topics``: create every topic with its partition count and exit.

Without ``KAFKA_BROKER`` these exit at once saying so: the embedded default needs no broker
(``gridcore ingest cameras|vehicles FILE`` runs the same rules in process).
"""

from __future__ import annotations

import asyncio
import os
import signal

import typer

stream_cli = typer.Typer(help="Kafka streams (KAFKA_BROKER): worker, feed, topics.",
                         no_args_is_help=True)

NO_BROKER = ("KAFKA_BROKER is not set: the stream worker needs a Kafka-protocol broker "
             "(e.g. KAFKA_BROKER=127.0.0.1:9092). Without one, feed alerts in process with "
             "`gridcore ingest cameras FILE` / `gridcore ingest vehicles FILE`.")


def broker() -> str:
    value = os.environ.get("KAFKA_BROKER", "").strip()
    for prefix in ("kafka://", "tcp://"):
        value = value.removeprefix(prefix)
    if not value:
        typer.echo(NO_BROKER, err=True)
        raise typer.Exit(2)
    return value


@stream_cli.command("worker")
def worker(batch: int = typer.Option(1000, help="records per agent batch"),
           feed: bool = typer.Option(True, help="also run the outbound event-feed relay"),
           passes: str = typer.Option("batch", help="how vehicle passes are read: 'batch' (a "
                                                     "batch consumer in the worker, several "
                                                     "times faster) or 'agent' (a faust agent)"),
           loglevel: str = typer.Option("warning", help="faust's log level"),
           ready_file: str = typer.Option(
               "", envvar="GRIDCORE_STREAM_READY_FILE",
               help="write the partitions each consumer group holds to this JSON file "
                    "(replaced on every assignment; a readiness marker)"),
           partitions: int = typer.Option(
               1, min=1, max=1024, envvar="GRIDCORE_STREAM_PARTITIONS",
               help="partitions of the keyed inbound topics (the same for every worker of "
                    "the group; see `gridcore stream topics`)")) -> None:
    """Run the faust worker: inbound topics -> alerts in the store; the event feed out."""
    from adapters.bootstrap import bootstrap
    from adapters.stream_app import StreamSettings, run_worker

    if passes not in ("agent", "batch"):
        typer.echo(f"--passes {passes!r}: use 'agent' or 'batch'", err=True)
        raise typer.Exit(2)
    settings = StreamSettings(broker=broker(), batch=batch, feed=feed, passes_reader=passes,
                              ready_file=ready_file or None, partitions=partitions,
                              # a benchmark switch only: the passes' store writes left out
                              bench_no_store_writes=os.environ.get(
                                  "GRIDCORE_BENCH_NO_STORE_WRITES") or None)
    run_worker(bootstrap().app, settings, loglevel=loglevel)


@stream_cli.command("feed")
def feed(once: bool = typer.Option(False, help="publish what the log holds, then exit"),
         batch: int = typer.Option(1000, help="events per acknowledged batch"),
         prefix: str = typer.Option("gridcore.events.", help="topic prefix (+ aggregate kind)"),
         name: str = typer.Option("feed:kafka", help="the relay's tracking name")) -> None:
    """Publish every stored domain event to gridcore.events.<kind>, resuming where it left."""
    from adapters.bootstrap import bootstrap
    from adapters.event_feed import EventFeed

    relay = EventFeed(bootstrap().app, broker(), batch=batch, prefix=prefix, name=name)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await relay.run(stop, once=once)

    try:
        sent = asyncio.run(main())
    finally:
        relay.close()
    typer.echo(f"event feed: {sent} event(s) published, position {relay.position()}")


@stream_cli.command("topics")
def create_topics(partitions: int = typer.Option(
        1, min=1, max=1024, envvar="GRIDCORE_STREAM_PARTITIONS",
        help="partitions of the keyed inbound topics")) -> None:
    """Create the inbound, dead-letter and table topics with their partition counts."""
    from adapters.stream_app import all_topics
    from adapters.stream_topics import ensure_topics

    created = ensure_topics(broker(), all_topics(partitions=partitions))
    typer.echo("created: " + (", ".join(created) if created else "none (all exist)"))


@stream_cli.command("schemas")
def schemas(out: str = typer.Option("docs/events", help="the folder to write them to"),
            base: str = typer.Option("https://gridcore.example/events/",
                                     help="the URI the schemas are published under (each "
                                          "CloudEvent's dataschema is base + file name)")
            ) -> None:
    """Write the JSON Schema of every event kind (the feed's bodies) as
    <topic>-v<class version>.schema.json; needs no broker."""
    from pathlib import Path

    from adapters.event_schemas import write_schemas

    written = write_schemas(Path(out), base)
    typer.echo(f"{len(written)} event schema(s) written to {out}")
