"""``download()``: resolve a link, fetch its segments concurrently, convert on every core."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from airspace.downloader import live as live_follow
from airspace.downloader.address_guard import AddressGuard
from airspace.downloader.assembly import Assembly
from airspace.downloader.child_processes import child_context
from airspace.downloader.converters import Converter, converter_for
from airspace.downloader.errors import (
    DownloadError,
    FetchError,
    NotRecorded,
    PlaylistError,
    PlaylistMissing,
    SpaceIsLive,
    TooLarge,
    UnsupportedURL,
)
from airspace.downloader.fetch_workers import Fetched as FetchedPart
from airspace.downloader.fetch_workers import FetchSettings, FetchWorkers
from airspace.downloader.fetching import fetch_segment, load_media_playlist
from airspace.downloader.formats import DEFAULT_TEMPLATE, FORMATS
from airspace.downloader.hls import MediaPlaylist
from airspace.downloader.mp3 import warm_up
from airspace.downloader.naming import render
from airspace.downloader.net import Http, HttpOptions, read_netscape_cookies
from airspace.downloader.parts import PartsCache, playlist_identity
from airspace.downloader.progress import Progress, ProgressCallback
from airspace.downloader.segments import read_normalized
from airspace.downloader.sources import (
    Source,
    SpaceInfo,
    classify,
    clip_id_from,
    hls_source,
    resolve_airspace,
)
from airspace.downloader.waiting import FAR_POLL_SECONDS, wait_for_start
from airspace.downloader.x import XConfig, resolve_x
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.tags import FileTags, write_tags

COVER_MAX_BYTES = 5 * 1024 * 1024
REPLAY_WAIT_SECONDS = 600.0
"""X publishes a replay a little after the Space ends; until then its playlist is a 404."""
REPLAY_RETRY_MAX_SECONDS = 30.0
# Below this many segments to fetch, starting fetching processes costs more than it saves.
PARALLEL_FETCH_SEGMENTS = 150


@dataclass
class DownloadOptions:
    output_template: str = DEFAULT_TEMPLATE
    format: str = "mp3"
    concurrency: int = 8
    live: bool = False
    cookies_file: str | None = None
    token: str | None = None
    quality: int = 5
    """MP3 VBR quality, 0 (best) to 9, as LAME's -V."""
    workers: int | None = None
    """Encoding processes; default: every core."""
    fetch_processes: int | None = None
    """Processes fetching segments; default: one per core for long recordings."""
    chunk_seconds: float = 60.0
    retries: int = 4
    max_bytes: int | None = None
    max_seconds: float | None = None
    guard: AddressGuard | None = None
    x: XConfig = field(default_factory=XConfig.from_env)
    keep_parts: bool = False
    min_bytes_per_second: int = 1
    """Transfers slower than this on average (over 20 s) are cut off and retried."""
    replay_wait: float = REPLAY_WAIT_SECONDS
    """Seconds to keep asking for a Space's replay playlist that is not there yet."""
    wait: bool = False
    """A scheduled Space is waited for and recorded live from its start (implies live)."""
    wait_poll_seconds: float = FAR_POLL_SECONDS
    """How often a Space that starts later than a minute from now is looked at."""


@dataclass
class DownloadResult:
    path: Path
    duration: float
    """Seconds of audio in the file."""
    warnings: list[str]
    title: str
    host: str
    transcript_url: str | None = None
    """Where the Space's instance serves its captions (Airspace sources)."""
    headers: dict[str, str] = field(default_factory=dict)
    """What reading from the source needs (an API token)."""
    info: SpaceInfo | None = None
    """Everything known about the Space (what ``--write-info-json`` writes)."""

    @property
    def complete(self) -> bool:
        """False when some audio had to be replaced by silence."""
        return not self.warnings


def download(
    url: str,
    output: str | None = None,
    *,
    format: str = "mp3",
    progress: ProgressCallback | None = None,
    **options: object,
) -> DownloadResult:
    """Download the recording behind ``url`` into one audio file.

    ``output`` is a template (``%(title)s %(host)s %(id)s %(date)s %(ext)s``). Raises a
    DownloadError subclass when it cannot be done.
    """
    settings = DownloadOptions(format=format, **options)  # type: ignore[arg-type]
    if output:
        settings.output_template = output
    return asyncio.run(download_async(url, settings, progress))


async def download_async(
    url: str, options: DownloadOptions, progress: ProgressCallback | None = None
) -> DownloadResult:
    if options.format not in FORMATS:
        raise UnsupportedURL(f"unknown format {options.format!r}; choose from {', '.join(FORMATS)}")
    if clip_id_from(url) is not None:
        from airspace.downloader.clips import download_clip

        return await download_clip(url, options, progress)
    report = progress or (lambda _: None)
    state = Progress()
    report(state)
    cookies = read_netscape_cookies(options.cookies_file) if options.cookies_file else {}
    http_options = HttpOptions(
        concurrency=options.concurrency,
        retries=options.retries,
        min_bytes_per_second=options.min_bytes_per_second,
    )
    async with Http(http_options, options.guard) as http:
        if options.wait:
            options.live = True
            await wait_for_start(url, http, options.token, state, report, options.wait_poll_seconds)
        source = await _resolve(url, http, options, cookies)
        output = render(options.output_template, source.info, options.format)
        output.parent.mkdir(parents=True, exist_ok=True)
        warnings: list[str] = []
        live_url: str | None = source.playlist_url if source.is_live else None
        first_view: MediaPlaylist | None = None
        if live_url is None:
            playlist = await _replay_playlist(http, url, source, options, state, report)
            if playlist.is_live:
                if not options.live:
                    raise SpaceIsLive()
                live_url = source.playlist_url
                first_view = playlist
        if live_url is not None:
            state.stage = "recording"
            report(state)
            cache = PartsCache(_parts_dir(output), "live|" + live_url.split("?", 1)[0])
            segments, warnings = await live_follow.record(
                http,
                live_url,
                source.headers,
                cache,
                options.retries,
                lambda: _replay_url(url, http, options, source),
                state,
                lambda: report(state),
                first_view,
            )
            playlist = MediaPlaylist(segments=segments, target_duration=0, ended=True)
            start_offset = 0.0
        else:
            cache = PartsCache(_parts_dir(output), playlist_identity(playlist.segments))
            start_offset = (
                playlist.start_offset if playlist.start_offset is not None else source.start_offset
            )
        if not playlist.segments:
            raise PlaylistError("the playlist names no segments")
        if options.max_seconds is not None and playlist.duration > options.max_seconds:
            raise TooLarge(
                f"the recording lasts {playlist.duration / 60:.0f} min; "
                f"this instance takes at most {options.max_seconds / 60:.0f} min"
            )
        return await _fetch_and_convert(
            http, source, playlist, start_offset, output, cache, warnings, options, state, report
        )


async def _replay_playlist(
    http: Http,
    url: str,
    source: Source,
    options: DownloadOptions,
    state: Progress,
    report: ProgressCallback,
) -> MediaPlaylist:
    """The media playlist of a Space's recording. One that is not there yet (a Space's
    replay just after it ended) is asked for again, with growing pauses, for up to
    ``options.replay_wait`` seconds; a plain HLS link that is missing fails at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.replay_wait
    pause = 1.0
    while True:
        try:
            return await load_media_playlist(http, source.playlist_url, source.headers)
        except PlaylistMissing as missing:
            if classify(url) == "hls" or loop.time() + pause > deadline:
                raise
            state.stage = "waiting"
            state.waiting_for = f"{missing.message}; the replay may not be published yet"
            report(state)
            await asyncio.sleep(pause)
            pause = min(pause * 2, REPLAY_RETRY_MAX_SECONDS)
        finally:
            state.waiting_for = ""


async def _replay_url(url: str, http: Http, options: DownloadOptions, source: Source) -> str | None:
    """Where the earlier part of a Space that was followed live can be read, once it ended."""
    if classify(url) != "airspace":
        return source.replay_playlist_url
    for _ in range(30):  # the replay is ready within seconds of the end
        try:
            return (await resolve_airspace(url, http, options.token, live=False)).playlist_url
        except (NotRecorded, SpaceIsLive):
            await asyncio.sleep(1.0)
        except DownloadError:
            return None
    return None


def _encoding_pool(options: DownloadOptions) -> ProcessPoolExecutor:
    """Encoding processes, started now so they are ready when the first chunk is."""
    workers = options.workers or os.cpu_count() or 1
    # Workers fork from a server that has imported the encoder once for all of them.
    executor = ProcessPoolExecutor(workers, mp_context=child_context())
    for _ in range(workers):
        executor.submit(warm_up)
    return executor


def _fetch_processes(options: DownloadOptions, missing: int) -> int:
    """How many processes fetch: one per core for a long download, else this one."""
    if options.fetch_processes is not None:
        return max(1, options.fetch_processes)
    if missing < PARALLEL_FETCH_SEGMENTS:
        return 1
    return min(os.cpu_count() or 1, max(1, options.concurrency))


def _parts_dir(output: Path) -> Path:
    return output.with_name(f".{output.name}.parts")


async def _resolve(
    url: str, http: Http, options: DownloadOptions, cookies: dict[str, str]
) -> Source:
    kind = classify(url)
    if kind == "x":
        return await resolve_x(url, http, options.x, cookies, options.live)
    if kind == "airspace":
        return await resolve_airspace(url, http, options.token, options.live)
    return hls_source(url)


async def _fetch_and_convert(
    http: Http,
    source: Source,
    playlist: MediaPlaylist,
    start_offset: float,
    output: Path,
    cache: PartsCache,
    warnings: list[str],
    options: DownloadOptions,
    state: Progress,
    report: ProgressCallback,
) -> DownloadResult:
    segments = playlist.segments
    state.stage = "downloading"
    state.segments_total = len(segments)
    state.seconds_total = playlist.duration
    state.segments_done = state.bytes_done = 0
    state.seconds_done = 0.0
    report(state)
    temporary = output.with_name(f".{output.name}.partial")
    executor = _encoding_pool(options) if options.format == "mp3" else None
    semaphore = asyncio.Semaphore(options.concurrency)

    def open_converter(sample_rate: int, channels: int) -> Converter:
        return converter_for(
            options.format,
            temporary,
            sample_rate=sample_rate,
            channels=channels,
            trim_start=round(start_offset * sample_rate),
            expected_samples=round(playlist.duration * sample_rate),
            executor=executor,
            quality=options.quality,
            chunk_seconds=options.chunk_seconds,
        )

    assembly = Assembly(
        segments, cache, open_converter, state, lambda: report(state), options.max_bytes
    )

    async def get(index: int) -> None:
        segment = segments[index]
        async with semaphore:
            if cache.has(segment.sequence):
                audio = read_normalized(cache.read(segment.sequence))
                size = 0
            else:
                try:
                    audio, size = await fetch_segment(
                        http, segment, source.headers, options.retries
                    )
                except FetchError as exc:
                    assembly.failed(index, exc.message)
                    return
                cache.write(segment.sequence, audio.to_bytes())
        assembly.stored(index, audio.samples, size, (audio.sample_rate, audio.channels))

    def fetched_by_worker(fetched: FetchedPart) -> None:
        if fetched.part is None:
            assembly.failed(fetched.index, fetched.failure or "unknown failure")
            return
        cache.adopt(segments[fetched.index].sequence, fetched.part)
        audio = (fetched.sample_rate, fetched.channels)
        assembly.stored(fetched.index, fetched.samples, fetched.size, audio)

    missing = [(i, s) for i, s in enumerate(segments) if not cache.has(s.sequence)]
    processes = _fetch_processes(options, len(missing))
    workers: FetchWorkers | None = None
    try:
        if processes > 1:
            # Cached parts are read here; the workers share out the rest.
            tasks = [
                asyncio.ensure_future(get(i))
                for i, s in enumerate(segments)
                if cache.has(s.sequence)
            ]
            settings = FetchSettings(
                source.headers,
                options.retries,
                options.concurrency,
                http.options,
                options.guard,
                cache.directory,
                cache.identity,
            )
            workers = FetchWorkers(missing, processes, settings, fetched_by_worker)
        else:
            tasks = [asyncio.ensure_future(get(i)) for i in range(len(segments))]
        try:
            await asyncio.gather(*tasks)
            if workers is not None:
                await workers.wait()
        except BaseException:
            for task in tasks:
                task.cancel()
            if workers is not None:
                workers.stop()
            raise
        converter = assembly.complete()
        state.stage = "finishing"
        report(state)
        finishing = asyncio.ensure_future(converter.finish())
        while not finishing.done():
            await asyncio.wait([finishing], timeout=0.25)
            state.seconds_converted = converter.converted_seconds
            report(state)
        stats = finishing.result()
    except BaseException:
        if assembly.converter is not None:
            assembly.converter.abort()
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        cache.close()
    warnings = [*warnings, *assembly.warnings]
    if stats.damaged_frames:
        warnings.append(
            f"{stats.damaged_frames} damaged AAC frame(s) did not decode; each became "
            f"{AAC_FRAME_SAMPLES} samples of silence"
        )
    assert assembly.audio_format is not None
    sample_rate = assembly.audio_format[0]
    info, cover = source.info, await _cover(http, source.info.cover_url)
    tags = FileTags(
        info.title, info.host, info.date, info.link, cover, info.chapters, info.participants
    )
    write_tags(temporary, options.format, tags, stats.output_samples / sample_rate)
    os.replace(temporary, output)
    if not options.keep_parts:
        cache.remove()
    state.stage = "done"
    report(state)
    return DownloadResult(
        path=output,
        duration=stats.output_samples / sample_rate,
        warnings=warnings,
        title=source.info.title,
        host=source.info.host,
        transcript_url=source.info.transcript_url,
        headers=source.headers,
        info=source.info,
    )


async def _cover(http: Http, url: str | None) -> bytes | None:
    if not url:
        return None
    try:
        response = await http.request("GET", url, max_bytes=COVER_MAX_BYTES)
    except Exception:  # a missing cover never fails a download
        return None
    return response.content if response.status_code == 200 else None
