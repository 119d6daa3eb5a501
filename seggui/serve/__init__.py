"""`seggui serve`: the models behind an HTTP API (FastAPI on uvicorn).

The server uses the same engine as the window and the CLI (model cards, torch
or ONNX Runtime, tiling). Its pieces:

- `limits`: upload and pixel limits, the bearer token, the loopback rule
  (plain Python, no web framework, so they are easy to test and reuse);
- `batching`: one worker thread per model that collects concurrent requests
  into one backend run;
- `work`: what a request computes (decode, areas, IoU, class map), framework-free;
- `app`: the FastAPI application that ties them to HTTP.

Only `seggui.cli.serve_cmd` imports this package, and only when the command
runs, so the default install (without the `serve` extra) never needs FastAPI.
"""
