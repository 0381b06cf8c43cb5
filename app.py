"""segdemo's entry point: ``python app.py`` serves the dashboard on 0.0.0.0:7860."""
from segdemo.ui.app import build_demo, launch

demo = build_demo()

if __name__ == "__main__":
    launch(demo)
