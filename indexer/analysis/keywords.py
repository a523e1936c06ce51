"""Reserved words per lexical family.

The normalized channel replaces identifiers by their kind so that renamed copies still match.
Only words that cannot be renamed keep their spelling there: reserved words, the literal
constants, and the receivers ``self`` and ``this``. Built-in function and type names are
identifiers like any other (a renamed copy may shadow them, and renaming tools do rename them).
"""

from __future__ import annotations

from indexer.analysis.languages import Family

_PYTHON = """
False None True and as assert async await break class continue def del elif else except finally
for from global if import in is lambda nonlocal not or pass raise return try while with yield
self cls cdef cpdef ctypedef cimport nogil
"""
_JAVASCRIPT = """
break case catch class const continue debugger default delete do else export extends false
finally for function if import in instanceof let new null return super switch this throw true try
typeof undefined var void while with yield async await of static get set interface enum
implements private public protected readonly type keyof declare namespace abstract as from
"""
_C_LIKE = """
auto break case char const continue default do double else enum extern float for goto if inline
int long register restrict return short signed sizeof static struct switch typedef union unsigned
void volatile bool true false nullptr class namespace template typename using virtual operator
public private protected new delete this try catch throw final override friend mutable explicit
package import extends implements interface abstract synchronized throws instanceof super null
boolean byte var val fun when object func go chan defer select map range type fallthrough nil
include define ifdef ifndef endif pragma
"""
_RUST = """
as async await break const continue crate dyn else enum extern false fn for if impl in let loop
match mod move mut pub ref return self Self static struct super trait true type unsafe use where
while
"""
_HASH = """
if then else elif fi for while do done case esac in function return local export def end class
module nil true false self unless until begin rescue ensure yield
"""
_SQL = """
SELECT FROM WHERE INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE INDEX DROP ALTER JOIN LEFT
RIGHT INNER OUTER ON AND OR NOT NULL AS ORDER BY GROUP HAVING LIMIT PRIMARY KEY FOREIGN
select from where insert into values update set delete create table index drop alter join left
right inner outer on and or not null as order by group having limit primary key foreign
"""

_BY_FAMILY = {
    Family.PYTHON: _PYTHON,
    Family.JAVASCRIPT: _JAVASCRIPT,
    Family.C_LIKE: _C_LIKE,
    Family.GO: _C_LIKE,
    Family.RUST: _RUST,
    Family.HASH: _HASH,
    Family.SQL: _SQL,
    Family.LUA: "and break do else elseif end false for function if in local nil not or repeat return then true until while",
    Family.HASKELL: "case class data deriving do else if import in infix let module of then type where",
}


def keywords(family: Family) -> list[str]:
    """The words of a family that keep their spelling in the normalized channel."""
    return sorted(set(_BY_FAMILY.get(family, "").split()))
