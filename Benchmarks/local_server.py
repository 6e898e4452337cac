"""A clinfer-server started for one measurement on 127.0.0.1 and stopped after it (the
benchmarks that compare two server configurations in one run). Python standard library only."""
import contextlib
import subprocess
import time
import urllib.request


@contextlib.contextmanager
def local_server(binary, port, flags):
    """Yields the base URL once /health answers 200; stops the server (SIGTERM) afterwards."""
    server = subprocess.Popen([binary, "--host", "127.0.0.1", "--port", str(port), *flags],
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError(f"{binary} exited with status {server.returncode} before it was ready")
            try:
                if urllib.request.urlopen(base + "/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)
