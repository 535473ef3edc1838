# A device that declares controls (docs/PROTOCOL.md, Controls), written on Microdot the way a
# MicroPython author would, from the protocol text alone: `hello` with its controls, then every
# control's value in a `ctl`; each `ctl` from an app is checked against its control, applied and
# sent to every client (the device is the source of truth); a client's held buttons are let go
# when it disconnects. Telemetry carries the battery the gauge follows.
#
# Run on CPython: python controls.py [HOST] [PORT]. For tests, over HTTP:
#   GET /state            values, who set each one last, and every ctl received (with arrival ms)
#   POST /declare         body: a JSON list of controls, sent to every client as a `controls` frame
#   POST /mute?on=1       hear but ignore ctl frames (nothing is confirmed); on=0 to stop
#   POST /cut             drop every WebSocket connection (the WiFi link is gone)
import asyncio
import json
import time

import tutorial
from microdot import Microdot
from microdot.websocket import with_websocket

CONTROLS = [
    {'id': 'lights', 'kind': 'toggle', 'label': 'Headlights', 'group': 'Car', 'drive': True},
    {'id': 'horn', 'kind': 'button', 'label': 'Horn', 'group': 'Car', 'drive': True},
    {'id': 'engine', 'kind': 'led', 'label': 'Lights on', 'group': 'Car', 'color': '#3ecf7a'},
    {'id': 'pan', 'kind': 'slider', 'label': 'Camera pan', 'group': 'Camera', 'min': -90, 'max': 90,
     'step': 1, 'unit': 'deg', 'rate_hz': 10},
    {'id': 'profile', 'kind': 'select', 'label': 'Drive profile', 'options': ['eco', 'sport']},
    {'id': 'display', 'kind': 'text', 'label': 'Display text', 'max_len': 16},
    {'id': 'speed', 'kind': 'number', 'label': 'Top speed', 'min': 0, 'max': 100, 'step': 5, 'unit': '%'},
    {'id': 'reset', 'kind': 'button', 'label': 'Reset trip', 'confirm': 'Reset the trip counter?'},
    {'id': 'winch', 'kind': 'button', 'label': 'Winch', 'disabled': True},
    {'id': 'battery', 'kind': 'gauge', 'label': 'Battery', 'min': 0, 'max': 100, 'unit': '%',
     'warn': 30, 'alarm': 15, 'series': 'battery'},
    {'id': 'status', 'kind': 'value', 'label': 'Status'},
    {'id': 'knob', 'kind': 'knob', 'label': 'Not a kind'},
]

controls = list(CONTROLS)
values = {}
set_by = {}
heard = []
clients = {}
muted = False
next_client = 0
started = time.monotonic()


def now_ms():
    return round((time.monotonic() - started) * 1000, 1)


def initial(c):
    kind = c.get('kind')
    if kind in ('button', 'toggle', 'led'):
        return False
    if kind in ('slider', 'number', 'gauge'):
        return c.get('min', 0)
    if kind == 'select':
        return c['options'][0]
    return ''


def declare(new):
    global controls
    controls = new
    for c in controls:
        if isinstance(c, dict) and 'id' in c:
            values.setdefault(c['id'], initial(c))


def accept(c, v):
    """The value control `c` takes for `v`, or None (a device checks every ctl it is sent)."""
    kind = c.get('kind')
    if kind in ('button', 'toggle'):
        return v if isinstance(v, bool) else None
    if kind in ('slider', 'number'):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        lo, hi, step = c.get('min', 0), c.get('max', 100), c.get('step')
        v = min(max(v, lo), hi)
        if step:
            v = min(lo + round((v - lo) / step) * step, hi)
        return v
    if kind == 'select':
        return v if v in c['options'] else None
    if kind == 'text':
        return v[: c.get('max_len', 64)] if isinstance(v, str) else None
    return None  # read-only kinds are the device's


async def broadcast(changed):
    frame = json.dumps({'t': 'ctl', 'v': changed})
    for ws in list(clients.values()):
        try:
            await ws.send(frame)
        except Exception:
            pass


async def apply(client, id_, v, why):
    values[id_] = v
    set_by[id_] = why
    changed = {id_: v}
    if id_ == 'lights':
        values['engine'] = v
        changed['engine'] = v
    values['status'] = f'{id_} set by {why}'
    changed['status'] = values['status']
    await broadcast(changed)


async def telemetry(ws):
    battery = 80.0
    while True:
        battery = battery - 0.5 if battery > 10 else 80.0
        values['battery'] = battery
        await ws.send(json.dumps({'t': 'tel', 'd': {'battery': battery}}))
        await asyncio.sleep(0.1)


app = Microdot()


tutorial.page(app, 'Controls')


@app.route('/state')
async def state(request):
    return {'values': values, 'set_by': set_by, 'heard': heard, 'clients': len(clients)}


@app.route('/declare', methods=['POST'])
async def redeclare(request):
    declare(json.loads(request.body))
    frame = json.dumps({'t': 'controls', 'controls': controls})
    for ws in list(clients.values()):
        await ws.send(frame)
    return {'ok': True}


@app.route('/mute', methods=['POST'])
async def mute(request):
    global muted
    muted = request.args.get('on') == '1'
    return {'muted': muted}


@app.route('/cut', methods=['POST'])
async def cut(request):
    for ws in list(clients.values()):
        await ws.close()
    return {'cut': True}


@app.route('/ws')
@with_websocket
async def socket(request, ws):
    global next_client
    next_client += 1
    client = next_client
    clients[client] = ws
    held = set()
    print(f'websocket open {client}')
    await ws.send(json.dumps({'t': 'hello', 'v': 1, 'name': 'Microdot controls', 'controls': controls}))
    await ws.send(json.dumps({'t': 'ctl', 'v': values}))
    ticker = asyncio.create_task(telemetry(ws))
    try:
        while True:
            msg = json.loads(await ws.receive())
            t = msg.get('t')
            if t == 'ping':
                await ws.send(json.dumps({'t': 'pong', 'id': msg.get('id')}))
            if t != 'ctl':
                continue
            print(f'receive websocket message : {json.dumps(msg)}')
            heard.append({'id': msg.get('id'), 'v': msg.get('v'), 'seq': msg.get('seq'), 'at_ms': now_ms(),
                          'client': client})
            c = next((c for c in controls if isinstance(c, dict) and c.get('id') == msg.get('id')), None)
            v = accept(c, msg.get('v')) if c and not c.get('disabled') else None
            if v is None or muted:
                continue
            if c['kind'] == 'button':
                (held.add if v else held.discard)(c['id'])
            await apply(client, c['id'], v, f'client {client}')
    except Exception:
        pass
    finally:
        ticker.cancel()
        clients.pop(client, None)
        # A horn, a pump or a winch never stays on when its client is gone.
        for id_ in held:
            await apply(client, id_, False, f'disconnect of client {client}')
        print(f'websocket closed {client}')


declare(CONTROLS)
values['pan'] = 0

if __name__ == '__main__':
    tutorial.run(app)
