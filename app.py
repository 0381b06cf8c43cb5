"""segdemo's entry point: ``python app.py`` serves the dashboard on 0.0.0.0:7860 (``--https`` for
a classroom whose phones use their cameras; ``--help`` for the options)."""
from segdemo.serving.class_training import server_teacher_code, training_switch
from segdemo.serving.memory import limit_allocator
from segdemo.serving.threads import one_thread_per_request
from segdemo.ui.app import build_demo, command_line, launch
from segdemo.ui.sessions import light_sessions

limit_allocator()  # before the models and the requests allocate
one_thread_per_request()  # before TensorFlow's first operation
light_sessions()  # a new visitor's first click does not compute the whole page's config

demo = build_demo()

if __name__ == "__main__":
    options = command_line()
    if training_switch()[0]:  # the Train tab is on: who may start a run (never shown on the page)
        print(server_teacher_code().notice(), flush=True)
    launch(demo, port=options.port, host=options.host, https=options.https)
