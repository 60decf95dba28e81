/* font_errors.c: FreeType errors as our statuses and FreeType's own static texts; a leaf
 * the probe (font_core.c) and the renderer (font_render.c) both use. */
#include "font_internal.h"

static const char *ft_error_text(FT_Error err)
{
	/* FreeType's documented way to build a table of its messages (fterrors.h); Debian's
	 * build has no FT_Error_String. */
#undef FTERRORS_H_
#define FT_ERRORDEF(e, v, s)                                                                       \
	case v:                                                                                    \
		return s;
#define FT_ERROR_START_LIST switch (err) {
#define FT_ERROR_END_LIST }
#include FT_ERRORS_H
	return "unknown FreeType error";
}

enum sx_status font_fail(struct sx_result *result, FT_Error err, const char *what)
{
	/* The signature was checked before FreeType saw the data: what it then cannot read
	 * ("unknown file format" included) is a broken font, not another format. */
	enum sx_status status = err == FT_Err_Out_Of_Memory ? SX_ERR_NO_MEMORY : SX_ERR_BAD_INPUT;
	return sx_fail(result, status, "%s: %s", what, ft_error_text(err));
}
