"What the tests that start JupyterLab (make lab, gradclip tutorials) check the same way"
import json, re, socket, time, urllib.error, urllib.request

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for_url(proc, pattern:str, timeout:float=180) -> tuple[str|None, list[str]]:
    "Read `proc`'s output until a line matches `pattern` (a regex whose one group is the URL): (url or None, lines read)"
    out, url, deadline = [], None, time.time() + timeout
    while time.time() < deadline and url is None and proc.poll() is None:
        line = proc.stdout.readline()
        out.append(line)
        if m := re.search(pattern, line): url = m.group(1)
    return url, out

def check_served(url:str, port:int) -> set[str]:
    "The server at `url` answers 200 with its token and 403 without; returns the names its contents API lists"
    token = url.split('token=')[1]
    for _ in range(60):          # the URL is printed a moment before the server accepts connections
        try: status = urllib.request.urlopen(url, timeout=10).status; break
        except urllib.error.URLError as e:
            if isinstance(e, urllib.error.HTTPError): raise
            time.sleep(0.5)
    assert status == 200
    listing = json.load(urllib.request.urlopen(f'http://127.0.0.1:{port}/api/contents?token={token}', timeout=10))
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{port}/api/contents', timeout=10)
        raise AssertionError('the API answered without the token')
    except urllib.error.HTTPError as e: assert e.code == 403
    return {item['name'] for item in listing['content']}
