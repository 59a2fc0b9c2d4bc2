"""The lossviz Dash front end: layout, thin callbacks, pure figure builders."""
