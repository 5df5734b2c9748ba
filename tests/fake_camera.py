"""A video for Chromium's fake camera (`--use-file-for-fake-video-capture`): ticket QR codes as
segno draws them, one after another with empty frames between, as uncompressed Y4M (the format
Chromium reads besides MJPEG). Chromium loops the file from its first frame when a page starts
the camera."""

from pathlib import Path

import segno

WIDTH, HEIGHT, FPS = 640, 480, 10
WHITE, BLACK = 255, 0


def qr_frame(text: str) -> bytes:
    """The luma plane of one frame: the QR code of `text`, black on white, in the middle."""
    matrix = segno.make(text, error="m").matrix
    modules = len(matrix) + 8  # the quiet zone of 4 modules each side
    scale = min(WIDTH, HEIGHT) * 9 // 10 // modules
    side = len(matrix) * scale
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    blank_row = bytes([WHITE]) * WIDTH
    rows = [blank_row] * top
    for line in matrix:
        pixels = b"".join(bytes([BLACK if dark else WHITE]) * scale for dark in line)
        row = bytes([WHITE]) * left + pixels + bytes([WHITE]) * (WIDTH - left - side)
        rows.extend([row] * scale)
    rows.extend([blank_row] * (HEIGHT - len(rows)))
    return b"".join(rows)


def write_video(path: Path, segments: list[tuple[str | None, float]]) -> Path:
    """`segments`: (QR text, or None for an empty picture; seconds shown)."""
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2 * 2)  # grey: no colour
    blank = bytes([WHITE]) * (WIDTH * HEIGHT)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for text, seconds in segments:
            frame = b"FRAME\n" + (qr_frame(text) if text else blank) + chroma
            for _ in range(round(seconds * FPS)):
                video.write(frame)
    return path
