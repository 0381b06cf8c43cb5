"""A new visitor's session without the config of every block on the page, until something asks for it.

Gradio (6.31) gives each new session a ``SessionState`` that computes the config of all the page's
blocks at once (304 here, eleven tabs), for one purpose: a deep link that recreates the visitor's
page. segdemo offers no deep links, yet every new phone paid ~37 ms of server CPU and kept ~0.5 MiB
for it, on its first click, when a whole class clicks together. Here each block's config is computed
when a request first updates it, and all of them, in the page's order, when the whole list is read
(a deep link would still get every block).
"""
import os
from copy import copy

from gradio import state_holder


class ConfigOnDemand(dict):
    """``SessionState.config_values`` empty at first: Gradio computes a block's config itself when a request
    updates one that is missing, so only the whole list (a deep link's, read through ``items``) needs filling."""

    def __init__(self, session, block_ids):
        super().__init__()
        self.session, self.order = session, list(block_ids)

    def items(self):
        """Every block's config, in the page's order (blocks added later after them)."""
        blocks_config = self.session.blocks_config
        for key in self.order:
            if key not in self:
                self[key] = blocks_config.config_for_block(key, [], blocks_config.blocks[key])
        return [(key, self[key]) for key in self.order] + [(key, self[key]) for key in self.keys() if key not in self.order]


def _light_init(self, blocks):
    """``SessionState.__init__`` of Gradio 6.31, its ``config_values`` on demand."""
    self.blocks_config = copy(blocks.default_config)
    self.config_values = ConfigOnDemand(self, [key for key in self.blocks_config.blocks if key in blocks.blocks])
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


ORIGINAL_INIT = state_holder.SessionState.__init__


def light_sessions():
    """New sessions compute their blocks' configs on demand (call once, before serving)."""
    state_holder.SessionState.__init__ = _light_init
