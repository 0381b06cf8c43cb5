"""segdemo's entry point: ``python app.py`` serves the dashboard on 0.0.0.0:7860."""
from segdemo.memory import limit_allocator
from segdemo.ui.app import build_demo, launch

limit_allocator()  # before the models and the requests allocate

demo = build_demo()

if __name__ == "__main__":
    launch(demo)
