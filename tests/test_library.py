"""The exported modules stand on their own.

Notebooks test their own definitions, in a namespace that also holds the notebook's test imports; a name the module
itself never imports (`math`, say) passes there and fails for a user. Here every global name that any function of
any gradclip module loads must exist in that module or in builtins.
"""
import builtins, dis, importlib, pkgutil, types
import pytest
import gradclip

MODULES = sorted(m.name for m in pkgutil.walk_packages(gradclip.__path__, 'gradclip.') if not m.name.endswith('_modidx'))

def loaded_globals(code: types.CodeType):
    "Names `code` (and the code nested in it) looks up globally; in a class body, names assigned there are its own"
    stored = {ins.argval for ins in dis.get_instructions(code) if ins.opname == 'STORE_NAME'}
    for ins in dis.get_instructions(code):
        if ins.opname == 'LOAD_GLOBAL' or (ins.opname == 'LOAD_NAME' and ins.argval not in stored): yield ins.argval
    for const in code.co_consts:
        if isinstance(const, types.CodeType): yield from loaded_globals(const)

@pytest.mark.parametrize('name', MODULES)
def test_module_defines_every_global_it_uses(name):
    module = importlib.import_module(name)
    code = compile(open(module.__file__).read(), module.__file__, 'exec')
    missing = {g for g in loaded_globals(code) if not hasattr(module, g) and not hasattr(builtins, g)}
    assert not missing, f'{name} uses names it never defines or imports: {sorted(missing)}'

def test_public_api_is_importable_from_each_module():
    for name in MODULES:
        module = importlib.import_module(name)
        for public in getattr(module, '__all__', []): assert hasattr(module, public), f'{name}.{public}'
