"""Test stand-ins for remote HTTP services (Supabase's PostgREST and GoTrue).

See supabase_standin.py's top for what the stand-in does and leaves out.
"""

from tests.stack.supabase_standin import SupabaseStandIn

__all__ = ["SupabaseStandIn"]
