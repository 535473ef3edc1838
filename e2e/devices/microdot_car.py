# A robot car as the MicroPython + Microdot "robot car over WebSocket" tutorials write it
# (donskytech's "MicroPython Robot Car with WebSocket" and its copies): each message is looked up
# in a table of commands and the result is called, so a word it does not know raises inside the
# handler and Microdot drops the connection; every command is answered with OK.
# Run on CPython: python microdot_car.py [HOST] [PORT]. Prints what it receives, as the tutorial.

import tutorial
from microdot import Microdot
from microdot.websocket import with_websocket


class RobotCar:
    """Stands in for the tutorial's two-motor driver (machine.Pin and PWM on the board)."""

    def __init__(self):
        self.speed = 'normal-speed'

    def forward(self): pass
    def reverse(self): pass
    def turn_left(self): pass
    def turn_right(self): pass
    def stop(self): pass

    def change_speed(self, speed):
        self.speed = speed


robot_car = RobotCar()
car_commands = {
    'forward': robot_car.forward,
    'reverse': robot_car.reverse,
    'left': robot_car.turn_left,
    'right': robot_car.turn_right,
    'stop': robot_car.stop,
}
app = Microdot()


tutorial.page(app, 'Robot car')


@app.route('/ws')
@with_websocket
async def execute_car_commands(request, ws):
    print('websocket open')
    try:
        while True:
            websocket_message = await ws.receive()
            print(f'receive websocket message : {websocket_message}')
            if 'speed' in websocket_message:
                robot_car.change_speed(websocket_message)
            else:
                command = car_commands.get(websocket_message)
                command()
            await ws.send('OK')
    finally:
        print('websocket closed')


if __name__ == '__main__':
    tutorial.run(app)
