"""segdemo's entry point: ``python app.py`` serves the dashboard on 0.0.0.0:7860 (``--https`` for
a classroom whose phones use their cameras; ``--help`` for the options)."""
from segdemo.serving.memory import limit_allocator
from segdemo.ui.app import build_demo, command_line, launch

limit_allocator()  # before the models and the requests allocate

demo = build_demo()

if __name__ == "__main__":
    options = command_line()
    launch(demo, port=options.port, host=options.host, https=options.https)
