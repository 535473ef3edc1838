# What every device script here shares and the tutorials they imitate do alike: an HTML page at
# `/`, and running on the host and port the test gives (python SCRIPT [HOST] [PORT]). The
# WebSocket handlers stay in each script, as each tutorial writes its own.
import sys


def page(app, title):
    """Serves a page titled `title` at `/`, as the tutorials serve theirs."""

    @app.route('/')
    async def index(request):
        return f'<h1>{title}</h1>', 200, {'Content-Type': 'text/html'}


def run(app):
    host = sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1'
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    app.run(host=host, port=port, debug=True)
